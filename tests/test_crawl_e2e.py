"""End to end: a real Scrapy crawl of the replay site on 127.0.0.1 into a real SQLite file."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from newsmon_process import run_newsmon
from store_rows import rows as _rows

SIDEBAR_MARKERS = ("TIN LIÊN QUAN", "Có thể bạn quan tâm", "Bài viết liên quan", "Читайте также")


@pytest.fixture
def crawled(demo_site, demo_config, tmp_path):
    """The replay site crawled once; returns (site, config path, db path, completed process)."""
    result = run_newsmon("crawl", config=demo_config)
    assert result.returncode == 0, result.stderr
    return demo_site, demo_config, str(tmp_path / "news.db"), result


def test_crawl_stores_clean_on_topic_articles(crawled):
    site, _, db_path, result = crawled
    rows = {r["url"]: r for r in _rows(db_path, "SELECT * FROM articles")}
    on_topic = [a for a in site.articles if a.kind in ("seed", "copy")]
    assert on_topic, "the replay site has on-topic articles"
    for article in on_topic:
        row = rows.get(article.url)
        assert row is not None, f"{article.url} was not stored"
        assert article.first_sentence[:60] in row["text"]
        assert article.last_sentence[-60:] in row["text"]
        for marker in SIDEBAR_MARKERS:
            assert marker not in row["text"], f"sidebar heading {marker!r} kept in {article.url}"
        published = datetime.fromisoformat(row["published"])
        assert abs((published - article.published).total_seconds()) <= 60, (row["published"], article.published)
        assert row["extractor_version"]
        assert json.loads(row["terms"]), "matched terms are stored"
    assert "articles stored" in result.stderr


def test_crawl_keeps_off_topic_as_slim_records_and_skips_old(crawled):
    site, _, db_path, _ = crawled
    stored = {r["url"] for r in _rows(db_path, "SELECT url FROM articles")}
    offtopic = {r["url"]: r for r in _rows(db_path, "SELECT * FROM offtopic")}
    for article in site.articles:
        if article.kind == "offtopic":
            assert article.url not in stored
            assert article.url in offtopic and offtopic[article.url]["reason"]
    requested = {path for _, path, _ in site.request_log}
    for article in site.articles:
        if article.kind == "old":
            assert not any(article.url.endswith(path) for path in requested), "an article outside the window was fetched"
    assert not any(path.startswith("/private/") for path in requested), "robots.txt Disallow was not honoured"


def test_crawl_fetches_each_article_once_and_records_the_run(crawled):
    site, _, db_path, _ = crawled
    article_gets = [path for method, path, _ in site.request_log
                    if method == "GET" and any(a.url.endswith(path) for a in site.articles)]
    assert len(article_gets) == len(set(article_gets)), "an article was fetched twice in one run"
    urls = [r["url"] for r in _rows(db_path, "SELECT url FROM articles")]
    assert all("utm_" not in url and "#" not in url for url in urls)
    runs = _rows(db_path, "SELECT * FROM runs")
    assert len(runs) == 1 and runs[0]["status"] == "ok"
    assert runs[0]["articles_stored"] == len(urls)
    reprints = _rows(db_path, "SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL")[0][0]
    assert reprints > 0 and runs[0]["duplicates"] == reprints, "the run's count of reprints is not the store's"
    assert _rows(db_path, "PRAGMA integrity_check")[0][0] == "ok"


def test_second_crawl_of_unchanged_site_fetches_only_entry_points(crawled):
    site, config, db_path, _ = crawled
    before = len(site.request_log)
    result = run_newsmon("crawl", config=config)
    assert result.returncode == 0, result.stderr
    second = site.request_log[before:]
    article_paths = {a.url.split(site.base_url, 1)[1] for a in site.articles}
    assert not [p for _, p, _ in second if p in article_paths], "articles were fetched again"
    assert any(status == 304 for _, _, status in second), "entry points were not revalidated with 304"
    runs = _rows(db_path, "SELECT * FROM runs ORDER BY id")
    assert len(runs) == 2 and runs[1]["articles_stored"] == 0


def test_crawl_refuses_changed_dedupe_parameters_until_the_index_is_rebuilt(crawled):
    site, config, db_path, _ = crawled
    config.write_text(config.read_text(encoding="utf-8") + "\n[dedupe]\nshingle_size = 3\n", encoding="utf-8")
    before = len(site.request_log)

    refused = run_newsmon("crawl", config=config)
    assert refused.returncode == 2, refused.stderr
    assert "newsmon dedupe --rebuild" in refused.stderr and "Traceback" not in refused.stderr
    assert len(site.request_log) == before, "a refused crawl fetched pages"
    runs = _rows(db_path, "SELECT status, error FROM runs ORDER BY id")
    assert runs[-1]["status"] == "failed" and "dedupe --rebuild" in runs[-1]["error"]

    assert run_newsmon("dedupe", "--rebuild", config=config).returncode == 0
    again = run_newsmon("crawl", config=config)
    assert again.returncode == 0, again.stderr
    assert _rows(db_path, "SELECT status FROM runs ORDER BY id DESC LIMIT 1")[0]["status"] == "ok"
