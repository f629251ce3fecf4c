"""The shipped newsmon.toml is a usable default, and config mistakes are clear errors naming the key."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from crawler.config import ConfigError, load_config
from scheduler import cli

ROOT = Path(__file__).resolve().parent.parent
VN_PAGES = Path(__file__).resolve().parent / "fixtures" / "vn-pages"


@pytest.fixture(scope="module")
def shipped():
    return load_config(ROOT / "newsmon.toml")


def test_ships_at_least_twenty_sources_in_three_languages(shipped):
    assert len(shipped.sources) >= 20
    languages = {s.lang for s in shipped.sources}
    assert languages == {"vi", "en", "ru"}
    for lang in ("vi", "en", "ru"):
        assert sum(1 for s in shipped.sources if s.lang == lang) >= 3, lang


def test_source_names_are_unique(shipped):
    names = [s.name for s in shipped.sources]
    assert len(names) == len(set(names))


def test_wire_services_are_marked_and_busy_wires_prefilter_titles(shipped):
    wires = {s.name for s in shipped.sources if s.wire}
    assert wires, "at least one wire service (TTXVN, TASS…) is expected"
    for name in ("tass", "ria", "interfax"):
        source = shipped.source(name)
        assert source.wire and source.prefilter == "title", name


def test_every_entry_point_is_an_https_url(shipped):
    for source in shipped.sources:
        assert source.entry_points, source.name
        for url in source.entry_points:
            parts = urlsplit(url)
            assert parts.scheme == "https" and parts.hostname, f"{source.name}: {url}"


def test_article_patterns_compile_and_every_listing_has_one(shipped):
    for source in shipped.sources:
        if source.listings:
            assert source.article_pattern, f"{source.name} has listings but no article_pattern"
        if source.article_pattern:
            re.compile(source.article_pattern)


def test_dates_without_an_offset_are_read_in_the_outlets_time_zone(shipped):
    for source in shipped.sources:
        host = urlsplit(source.entry_points[0]).hostname
        expected = "+03:00" if host.endswith(".ru") or host.endswith("tass.com") else "+07:00"
        assert source.utc_offset == expected, source.name


@pytest.mark.parametrize("name, article, listing", [
    ("baochinhphu", "baochinhphu_article.html", "baochinhphu_list.html"),
    ("vnexpress", "vnexpress_article.html", "vnexpress_list.html"),
])
def test_article_pattern_accepts_real_article_urls_and_rejects_section_pages(shipped, name, article, listing):
    pattern = re.compile(shipped.source(name).article_pattern)
    article_url = _canonical(VN_PAGES / article)
    listing_url = _canonical(VN_PAGES / listing)
    assert pattern.search(article_url), article_url
    assert not pattern.search(listing_url), listing_url


def _canonical(path: Path) -> str:
    html = path.read_text(encoding="utf-8", errors="replace")
    return re.search(r'<link[^>]*rel="canonical"[^>]*href="([^"]+)"', html).group(1)


# --- mistakes are ConfigErrors naming the key ----------------------------------------------

GOOD_SOURCE = '''
[[sources]]
name = "qdnd"
lang = "vi"
feeds = ["https://www.qdnd.vn/rss/cate/quoc-phong-an-ninh-3424.rss"]
'''

MISTAKES = {
    "unknown key": (GOOD_SOURCE + 'feedz = ["https://example.org/rss"]\n', "sources[0].feedz"),
    "bad URL": (GOOD_SOURCE.replace("https://www.qdnd.vn/rss/cate/quoc-phong-an-ninh-3424.rss",
                                    "ftp://qdnd.vn/rss"), "sources[0] (qdnd).feeds[0]"),
    "bad duration": ('[crawl]\nwindow = "two weeks"\n' + GOOD_SOURCE, "crawl.window"),
    "bad source duration": (GOOD_SOURCE + 'silent_after = "3 days"\n', "sources[0] (qdnd).silent_after"),
    "bad lang": (GOOD_SOURCE.replace('lang = "vi"', 'lang = "fr"'), "sources[0] (qdnd).lang"),
    "bad pattern": (GOOD_SOURCE + "article_pattern = '([a-z'\n", "sources[0] (qdnd).article_pattern"),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_config_mistake_is_an_error_naming_the_key(tmp_path, mistake):
    text, key = MISTAKES[mistake]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(key), str(caught.value)


@pytest.mark.parametrize("mistake", ["unknown key", "bad URL", "bad duration", "bad lang"])
def test_cli_reports_config_mistake_with_exit_2(tmp_path, mistake):
    text, key = MISTAKES[mistake]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "sources", "list"])
    assert result.exit_code == 2
    assert key in result.output
    assert "Traceback" not in result.output


def test_cli_reports_a_missing_config_file(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.toml"), "sources", "list"])
    assert result.exit_code == 2
    assert "nope.toml" in result.output and "not found" in result.output
