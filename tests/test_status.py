"""``newsmon status``: last runs, next run and per-source health, with FAILING and SILENT alerts."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from click.testing import CliRunner

from newsmon_process import run_newsmon
from scheduler import cli


@contextmanager
def failing_site():
    """A site on 127.0.0.1 that answers every request with HTTP 500."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"internal error"
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_status_flags_a_source_whose_site_returns_500s_and_one_that_went_silent(demo_site, tmp_path):
    db = tmp_path / "news.db"
    config = tmp_path / "newsmon.toml"
    with failing_site() as broken:
        config.write_text(
            demo_site.config_toml(str(db))
            + f'\n[[sources]]\nname = "broken"\nlang = "vi"\nfeeds = ["{broken}/rss.xml"]\nlistings = ["{broken}/"]\n',
            encoding="utf-8",
        )
        first = run_newsmon("crawl", config=config)
        assert first.returncode == 0, first.stderr
        # qdnd's articles were all fetched five days ago; since then it has published nothing new.
        five_days_ago = (datetime.now(timezone.utc) - timedelta(days=5)).isoformat(timespec="seconds")
        conn = sqlite3.connect(db)
        with conn:
            assert conn.execute("UPDATE articles SET fetched = ? WHERE source = 'qdnd'", (five_days_ago,)).rowcount
            conn.execute("UPDATE offtopic SET seen = ? WHERE source = 'qdnd'", (five_days_ago,))
        conn.close()
        second = run_newsmon("crawl", config=config)
        assert second.returncode == 0, second.stderr

    result = run_newsmon("status", "--json", config=config)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    sources = {s["name"]: s for s in report["sources"]}
    assert {name for name, s in sources.items() if s["alerts"]} == {"broken", "qdnd"}

    assert sources["broken"]["failing"] and sources["broken"]["consecutive_failures"] == 2
    assert "500" in sources["broken"]["last_error"]
    assert sources["broken"]["last_success"] is None
    assert sources["broken"]["alerts"][0].startswith("FAILING")

    assert sources["qdnd"]["silent"] and not sources["qdnd"]["failing"]
    assert sources["qdnd"]["alerts"][0].startswith("SILENT")
    assert sources["qdnd"]["articles_24h"] == 0 and sources["qdnd"]["articles_7d"] > 0
    assert sources["qdnd"]["last_success"] is not None

    conn = sqlite3.connect(db)
    for name, source in sources.items():
        stored_today = conn.execute(
            "SELECT count(*) FROM articles WHERE source = ? AND fetched >= ?",
            (name, (datetime.now(timezone.utc) - timedelta(hours=24)).isoformat(timespec="seconds")),
        ).fetchone()[0]
        assert source["articles_24h"] == stored_today
    conn.close()
    assert any(s["articles_24h"] > 0 for s in sources.values())

    assert [r["status"] for r in report["runs"]] == ["partial", "partial"]
    assert "broken" in report["runs"][0]["error"]
    assert report["scheduler"]["running"] is False

    text = run_newsmon("status", config=config)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert any(line.split()[0] == "broken" and "FAILING" in line for line in lines if line.strip())
    assert any(line.split()[0] == "qdnd" and "SILENT" in line for line in lines if line.strip())
    assert "2 alert(s)." in text.stdout
    assert "Scheduler: not running" in text.stdout


def _record(db, run_id, source, fetched, name):
    from crawler.items import ArticleRecord, ExtractedArticle
    from store.articles import save_article

    text = f"{name}: Việt Nam và Liên bang Nga trao đổi về hợp tác quốc phòng."
    record = ArticleRecord(url=f"http://127.0.0.1/{source}/{name}", source=source, fetched=fetched,
                           html=text.encode(), run_id=run_id, relevant=True, score=1.0)
    record.article = ExtractedArticle(title=name, author=None, published=fetched, lang="vi", text=text,
                                      extractor_version="test")
    save_article(db, record)


def test_failures_reset_on_success_and_silence_follows_each_sources_own_limit(tmp_path):
    from store.articles import finish_run, start_run
    from store.db import connect

    config = tmp_path / "newsmon.toml"
    config.write_text(
        f'[store]\npath = "{tmp_path / "news.db"}"\n'
        + "".join(
            f'\n[[sources]]\nname = "{name}"\nlang = "vi"\nfeeds = ["http://127.0.0.1:9/{name}.rss"]\n'
            f'silent_after = "{silent}"\n'
            for name, silent in (("steady", "3d"), ("flaky", "3d"), ("slow", "7d"), ("new", "3d"))
        ),
        encoding="utf-8",
    )
    db = connect(tmp_path / "news.db")
    now = datetime.now(timezone.utc)
    outcomes = [
        {"steady": "ok", "flaky": "failed", "slow": "ok"},
        {"steady": "ok", "flaky": "ok", "slow": "ok"},
        {"steady": "ok", "flaky": "failed", "slow": "ok"},
        {"steady": "ok", "flaky": "failed", "slow": "ok"},
    ]
    for number, outcome in enumerate(outcomes, 1):
        run_id = start_run(db, list(outcome), trigger="schedule")
        if number == 1:
            _record(db, run_id, "steady", now - timedelta(days=3), "older")
            _record(db, run_id, "flaky", now - timedelta(days=4), "last-flaky")
            _record(db, run_id, "slow", now - timedelta(days=5), "last-slow")
        if number == 4:
            _record(db, run_id, "steady", now - timedelta(minutes=5), "fresh")
        per_source = {name: {"status": status, "error": f"HTTP 50{number}" if status == "failed" else None}
                      for name, status in outcome.items()}
        finish_run(db, run_id, "partial", {"articles_stored": 1}, per_source=per_source)
    db.close()

    result = CliRunner().invoke(cli, ["--config", str(config), "status", "--json"])
    assert result.exit_code == 0, result.output
    sources = {s["name"]: s for s in json.loads(result.output)["sources"]}

    assert sources["steady"]["alerts"] == []
    assert (sources["steady"]["articles_24h"], sources["steady"]["articles_7d"]) == (1, 2)
    # Two failures since its last success in run 2; the one in run 1 does not count any more.
    assert sources["flaky"]["consecutive_failures"] == 2
    assert sources["flaky"]["last_error"] == "HTTP 504"
    assert [a.split(":")[0] for a in sources["flaky"]["alerts"]] == ["FAILING", "SILENT"]
    # Five quiet days are within "slow"'s seven.
    assert sources["slow"]["alerts"] == [] and not sources["slow"]["silent"]
    assert sources["new"]["last_crawl"] is None and sources["new"]["alerts"] == []

    text = CliRunner().invoke(cli, ["--config", str(config), "status", "--runs", "2"])
    assert text.exit_code == 0, text.output
    assert "never crawled" in text.output
    run_lines = [line.split() for line in text.output.splitlines() if "schedule" in line.split()]
    assert [(words[0], words[4]) for words in run_lines] == [("4", "partial"), ("3", "partial")]


def test_status_without_a_store_or_with_bad_options_is_a_clear_usage_error(tmp_path):
    config = tmp_path / "newsmon.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "missing.db"}"\n', encoding="utf-8")
    missing = CliRunner().invoke(cli, ["--config", str(config), "status"])
    assert missing.exit_code == 2
    assert "no store at" in missing.output and "Traceback" not in missing.output
    bad = CliRunner().invoke(cli, ["--config", str(config), "status", "--runs", "0"])
    assert bad.exit_code == 2 and "--runs" in bad.output
