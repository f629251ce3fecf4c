"""Bad content: legacy encodings, lying charset headers, XML attacks, pathological HTML, unstorable characters.

One real crawl (``newsmon crawl`` in a child process) of a fault site on
127.0.0.1 where every source is one kind of bad content; each test checks what
ended up in the store. Stored text must be the right characters in NFC,
whatever bytes carried them.
"""

from __future__ import annotations

import os
import sqlite3
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from fault_server import (
    FaultSite,
    SeedText,
    article_html,
    encode_cp1258,
    newsmon_toml,
    page,
    rss_feed,
    russian_text,
    seed_text,
    sitemap_xml,
)
from newsmon_process import run_newsmon
from store_rows import rows as _rows

SECRET = "XXE-SECRET-4f1c0d"
EXTRACT_TIMEOUT_S = 3


@dataclass
class BadContent:
    site: FaultSite
    pages: dict[str, tuple[str, SeedText]]  # case -> (url, the text the page carries)
    db_path: str
    result: object
    secret_file: Path


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("content")
    secret_file = tmp / "secret.txt"
    secret_file.write_text(SECRET, encoding="utf-8")
    site = FaultSite("127.0.0.1").start()
    pages: dict[str, tuple[str, SeedText]] = {}
    sources: list[dict] = []

    def article(case: str, text: SeedText, body: bytes, content_type: str) -> str:
        url = site.route(f"/a/{case}", page(body, content_type))
        pages[case] = (url, text)
        return url

    def source(name: str, urls: list[str]) -> None:
        feed = site.route(f"/{name}.rss", page(rss_feed([(u, f"Tin {n}") for n, u in enumerate(urls)]),
                                               "application/rss+xml"))
        sources.append({"name": name, "feeds": [feed]})

    vi, ru = seed_text(0), russian_text()
    vi_html = lambda charset: article_html(vi, charset=charset)  # noqa: E731
    ru_html = lambda charset: article_html(ru, charset=charset)  # noqa: E731
    # encodings
    encodings = [
        article("cp1258-header", vi, encode_cp1258(vi_html("windows-1258")), "text/html; charset=windows-1258"),
        article("cp1258-meta-only", vi, encode_cp1258(vi_html("windows-1258")), "text/html"),
        article("cp1251-header", ru, ru_html(None).encode("cp1251"), "text/html; charset=windows-1251"),
        article("koi8r-meta-only", ru, ru_html("koi8-r").encode("koi8_r", "xmlcharrefreplace"), "text/html"),
        article("header-utf8-body-cp1251", ru, ru_html("windows-1251").encode("cp1251"), "text/html; charset=utf-8"),
        article("header-cp1251-body-utf8", ru, ru_html("utf-8").encode("utf-8"), "text/html; charset=windows-1251"),
        article("header-latin1-body-utf8", vi, vi_html(None).encode("utf-8"), "text/html; charset=iso-8859-1"),
        article("utf8-bom", vi, b"\xef\xbb\xbf" + vi_html(None).encode("utf-8"), "text/html; charset=windows-1252"),
        article("utf16-bom", vi, vi_html(None).encode("utf-16"), "text/html"),
        article("nfd", SeedText(vi.title, vi.paragraphs, "vi"),
                unicodedata.normalize("NFD", vi_html("utf-8")).encode("utf-8"), "text/html; charset=utf-8"),
    ]
    source("encodings", encodings)
    # XML attacks: external entities (a local file, a URL) and entity expansion, in a feed and a sitemap
    good = article("after-xml", seed_text(1), article_html(seed_text(1)).encode(), "text/html; charset=utf-8")
    xxe = (f'<!DOCTYPE rss [<!ENTITY file SYSTEM "file://{secret_file}">'
           f'<!ENTITY net SYSTEM "{site.url("/xxe-probe")}">]>\n')
    laughs = '<!DOCTYPE rss [<!ENTITY lol "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">' for n in range(1, 10)) + "]>\n"
    site.route("/xxe.rss", page(rss_feed([(good, "x")], prolog=xxe, title_entity="&file;&net;"), "application/rss+xml"))
    site.route("/laughs.rss", page(rss_feed([(good, "x")], prolog=laughs, title_entity="&lol9;"),
                                   "application/rss+xml"))
    sitemap = sitemap_xml(["&file;"]).replace("<urlset", xxe.replace("rss", "urlset") + "<urlset", 1)
    site.route("/xxe-sitemap.xml", page(sitemap, "application/xml"))
    sources.append({"name": "xml-attacks", "feeds": [site.url("/xxe.rss"), site.url("/laughs.rss")],
                    "sitemaps": [site.url("/xxe-sitemap.xml")]})
    # pathological HTML, each its own source
    many = "<html><body><article><h1>Nhiều đoạn</h1>" + "".join(
        f"<p>Đoạn {n}: hợp tác quốc phòng Việt Nam – Liên bang Nga.</p>" for n in range(100_000)) + "</article></body></html>"
    source("many-paragraphs", [article("many-paragraphs", vi, many.encode(), "text/html; charset=utf-8")])
    deep = ("<html><body>" + "<div>" * 5000 + "".join(f"<p>{p}</p>" for p in vi.paragraphs) + "</div>" * 5000
            + "</body></html>")
    source("deep-nesting", [article("deep-nesting", vi, deep.encode(), "text/html; charset=utf-8")])
    line = "<html><body><p>" + ("Hợp tác quốc phòng Việt – Nga. " * 700_000)[:20_000_000] + "</p></body></html>"
    source("one-line-20mb", [article("one-line-20mb", vi, line.encode(), "text/html; charset=utf-8")])
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(200_000)
    source("binary", [article("binary-random", vi, os.urandom(300_000), "text/html; charset=utf-8"),
                      article("binary-png", vi, png, "text/html")])
    # characters SQLite and its readers choke on: NUL, other controls, lone surrogates (JSON-LD escapes)
    ld = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "H\\ud800 \\u0000",'
          ' "author": {"@type": "Person", "name": "Nguy\\udc00n V\\u0000\\u0007an"}}</script>')
    unstorable = article_html(seed_text(2), extra_head=ld).replace("</h1>", "</h1><p>\x00\x01\x1f\x7f</p>", 1)
    source("unstorable", [article("unstorable", seed_text(2), unstorable.encode("utf-8"), "text/html; charset=utf-8")])

    db_path = str(tmp / "news.db")
    config = tmp / "newsmon.toml"
    config.write_text(newsmon_toml(db_path, sources, download_maxsize=32 * 1024 * 1024, download_timeout="10s",
                                   extract_timeout=f"{EXTRACT_TIMEOUT_S}s", concurrency_per_domain=8),
                      encoding="utf-8")
    result = run_newsmon("crawl", config=config, timeout=120)
    try:
        yield BadContent(site, pages, db_path, result, secret_file)
    finally:
        site.stop()


def _stored(bad: BadContent, case: str):
    url, _ = bad.pages[case]
    rows = _rows(bad.db_path, "SELECT * FROM articles WHERE url = ?", url)
    return rows[0] if rows else None


def _source(bad: BadContent, name: str):
    return _rows(bad.db_path, "SELECT * FROM run_sources WHERE source = ?", name)[0]


def _processed(bad: BadContent, case: str) -> bool:
    url, _ = bad.pages[case]
    return bool(_rows(bad.db_path, "SELECT url FROM articles WHERE url = ? UNION SELECT url FROM offtopic WHERE url = ?",
                      url, url))


ENCODING_CASES = ["cp1258-header", "cp1258-meta-only", "cp1251-header", "koi8r-meta-only", "header-utf8-body-cp1251",
                  "header-cp1251-body-utf8", "header-latin1-body-utf8", "utf8-bom", "utf16-bom", "nfd"]


def test_the_crawl_survives_all_of_it(bad):
    assert bad.result.returncode == 0, bad.result.stderr
    assert "Traceback" not in bad.result.stderr


@pytest.mark.parametrize("case", ENCODING_CASES)
def test_every_encoding_is_stored_as_correct_nfc_text(bad, case):
    row = _stored(bad, case)
    assert row is not None, f"{case} was not stored"
    _, text = bad.pages[case]
    assert row["title"] == _nfc(text.title)
    longest = max(text.paragraphs[1:], key=len)
    assert _nfc(text.paragraphs[0])[:120] in row["text"]
    assert _nfc(longest)[-120:] in row["text"]
    assert row["text"] == _nfc(row["text"]) and "\ufffd" not in row["text"]


def test_external_entities_are_never_resolved(bad):
    conn = sqlite3.connect(bad.db_path)
    try:
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    assert SECRET not in dump, "a feed's external entity read a local file"
    assert bad.site.hits("/xxe-probe") == [], "a feed's external entity was fetched"
    assert _stored(bad, "after-xml") is not None, "the article listed after the attacks was not stored"


def test_entity_expansion_is_bounded(bad):
    longest = _rows(bad.db_path, "SELECT max(length(coalesce(title, ''))) AS n FROM offtopic")[0]["n"] or 0
    longest_article = _rows(bad.db_path, "SELECT max(length(coalesce(title, ''))) AS n FROM articles")[0]["n"] or 0
    assert max(longest, longest_article) < 2000
    assert os.path.getsize(bad.db_path) < 20 * 1024 * 1024


def test_many_paragraphs_hit_the_extraction_time_limit_and_the_crawl_goes_on(bad):
    """100,000 <p> take several times the limit to extract: the page is a failure, not a stall."""
    assert not _processed(bad, "many-paragraphs")
    row = _source(bad, "many-paragraphs")
    assert row["errors"] == 1 and bad.pages["many-paragraphs"][0] in (row["error"] or "")


@pytest.mark.parametrize("case", ["deep-nesting", "one-line-20mb"])
def test_pathological_pages_are_extracted_or_recorded_as_failed(bad, case):
    row = _source(bad, case)
    assert row["status"] == "ok"
    assert _processed(bad, case) or row["errors"] == 1


def test_binary_served_as_html_is_recorded_as_failed(bad):
    row = _source(bad, "binary")
    assert row["errors"] == 2
    for case in ("binary-random", "binary-png"):
        assert f"{bad.pages[case][0]}: not an HTML page (binary content)" in row["error"]
        assert not _processed(bad, case)


def test_nul_bytes_and_lone_surrogates_are_cleaned_before_sqlite(bad):
    row = _stored(bad, "unstorable")
    assert row is not None, "the page with unstorable characters was lost"
    for column in ("title", "author", "text"):
        value = row[column] or ""
        assert not any(ord(c) < 32 and c not in "\n\t\r" for c in value), column
    assert row["author"] is None or "\x00" not in row["author"]
    assert _nfc(seed_text(2).paragraphs[0])[:120] in row["text"]
