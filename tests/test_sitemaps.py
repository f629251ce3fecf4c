"""Sitemaps: Google News fields kept, sloppy namespaces tolerated, indexes, gzip (and gzip bombs), caps, hostile XML."""

from __future__ import annotations

import gzip
import zlib
from datetime import datetime, timedelta, timezone

import pytest

from crawler.entries import Entry
from crawler.sitemaps import SitemapError, parse_sitemap

UTC = timezone.utc
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


def _news_sitemap(news_ns: str | None = NEWS_NS, sitemap_ns: str | None = SITEMAP_NS) -> bytes:
    root_ns = f' xmlns="{sitemap_ns}"' if sitemap_ns else ""
    news_decl = f' xmlns:news="{news_ns}"' if news_ns else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset{root_ns}{news_decl} xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://vietnamplus.example/viet-nam-nga-ky-ket-hop-tac-quoc-phong-post981234.vnp</loc>
    <news:news>
      <news:publication><news:name>VietnamPlus</news:name><news:language>vi</news:language></news:publication>
      <news:publication_date>2024-08-14T10:30:00+07:00</news:publication_date>
      <news:title>Việt Nam - Nga ký kết hợp tác quốc phòng</news:title>
      <news:keywords>Việt Nam, Nga, quốc phòng</news:keywords>
    </news:news>
    <image:image><image:loc>https://img.example/1.jpg</image:loc><image:title>Ảnh</image:title></image:image>
    <lastmod>2024-08-15T00:00:00+07:00</lastmod>
  </url>
  <url>
    <loc> https://vietnamplus.example/tau-nga-tham-cam-ranh-post981235.vnp?utm_source=sitemap </loc>
    <lastmod>2024-08-13</lastmod>
  </url>
  <url><loc>mailto:toasoan@example.vn</loc></url>
</urlset>""".encode()


EXPECTED_ENTRIES = [
    Entry(
        url="https://vietnamplus.example/viet-nam-nga-ky-ket-hop-tac-quoc-phong-post981234.vnp",
        title="Việt Nam - Nga ký kết hợp tác quốc phòng",
        published=datetime(2024, 8, 14, 3, 30, tzinfo=UTC),
        keywords="Việt Nam, Nga, quốc phòng",
    ),
    Entry(
        url="https://vietnamplus.example/tau-nga-tham-cam-ranh-post981235.vnp",
        title=None,
        published=datetime(2024, 8, 13, tzinfo=UTC),
    ),
]


def test_news_sitemap_keeps_news_fields_and_falls_back_to_lastmod():
    page = parse_sitemap(_news_sitemap(), "https://vietnamplus.example/sitemap-news.xml", 100)
    assert page.entries == EXPECTED_ENTRIES
    assert page.children == []
    assert page.total == 3
    assert page.skipped == 1  # the mailto: loc
    assert page.dropped == 0


@pytest.mark.parametrize(
    ("news_ns", "sitemap_ns"),
    [
        ("http://www.google.com/schemas/sitemap-news/0.84", SITEMAP_NS),  # an old news namespace
        ("http://www.google.com/schemas/sitemap-news/0.9/", SITEMAP_NS),  # a stray slash
        ("https://www.google.com/schemas/sitemap-news/0.9", "https://www.sitemaps.org/schemas/sitemap/0.9"),
        (NEWS_NS, None),  # no default namespace
        (None, SITEMAP_NS),  # news: prefix used but never declared
        (None, None),
    ],
)
def test_wrong_or_missing_namespaces_give_the_same_entries(news_ns, sitemap_ns):
    page = parse_sitemap(_news_sitemap(news_ns, sitemap_ns), "https://vietnamplus.example/sitemap-news.xml", 100)
    assert page.entries == EXPECTED_ENTRIES


def test_sitemap_index_lists_children_with_their_lastmod():
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="{SITEMAP_NS}">
  <sitemap><loc>https://ex.vn/sitemaps/sitemap-2024-08.xml.gz</loc><lastmod>2024-08-14T08:00:00Z</lastmod></sitemap>
  <sitemap><loc>/sitemaps/sitemap-2024-07.xml.gz</loc><lastmod>2024-07-31</lastmod></sitemap>
  <sitemap><loc>https://ex.vn/sitemap.xml</loc></sitemap>
  <sitemap><loc>https://ex.vn/sitemaps/sitemap-2024-08.xml.gz</loc></sitemap>
</sitemapindex>""".encode()
    page = parse_sitemap(body, "https://ex.vn/sitemap.xml", 100)
    assert page.entries == []
    # a relative loc resolves; the index pointing at itself and the repeated child are skipped
    assert page.children == [
        "https://ex.vn/sitemaps/sitemap-2024-08.xml.gz",
        "https://ex.vn/sitemaps/sitemap-2024-07.xml.gz",
    ]
    assert page.child_sitemaps[0].published == datetime(2024, 8, 14, 8, 0, tzinfo=UTC)
    assert page.child_sitemaps[1].published == datetime(2024, 7, 31, tzinfo=UTC)
    assert page.skipped == 2


def test_gzipped_sitemap_equals_plain():
    body = _news_sitemap()
    assert (
        parse_sitemap(gzip.compress(body), "https://vietnamplus.example/sitemap-news.xml.gz", 100).entries
        == EXPECTED_ENTRIES
    )


def _gzip_stream(piece: bytes, repeat: int, head: bytes = b"", tail: bytes = b"") -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = [compressor.compress(head)]
    out.extend(compressor.compress(piece) for _ in range(repeat))
    out.append(compressor.compress(tail))
    out.append(compressor.flush())
    return b"".join(out)


def test_gzip_bomb_is_refused():
    """64 MiB of sitemap in a ~200 KB body is refused at the 50 MiB cap (the sitemap protocol's limit)."""
    url = b"<url><loc>https://ex.vn/a</loc></url>" * 28_000  # ~1 MiB
    bomb = _gzip_stream(url, 64, head=f'<urlset xmlns="{SITEMAP_NS}">'.encode(), tail=b"</urlset>")
    assert len(bomb) < 512 * 1024
    with pytest.raises(SitemapError, match="inflates to more than"):
        parse_sitemap(bomb, "https://ex.vn/sitemap.xml.gz", 100)


def test_gzip_cap_is_configurable():
    body = gzip.compress(_news_sitemap())
    with pytest.raises(SitemapError, match="more than 500 bytes"):
        parse_sitemap(body, "https://ex.vn/sitemap.xml.gz", 100, max_bytes=500)


@pytest.mark.parametrize("body", [b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage", gzip.compress(b"<urlset>")[:-12]])
def test_broken_gzip_is_an_error(body):
    with pytest.raises(SitemapError, match="gzip"):
        parse_sitemap(body, "https://ex.vn/sitemap.xml.gz", 100)


def _big_urlset(count: int) -> bytes:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    urls = "".join(
        f"<url><loc>https://ex.vn/a-{i}.html</loc><lastmod>{(start + timedelta(hours=i)).isoformat()}</lastmod></url>"
        for i in range(count)
    )
    return f'<urlset xmlns="{SITEMAP_NS}">{urls}</urlset>'.encode()


def test_a_huge_sitemap_is_capped_to_the_newest_urls():
    page = parse_sitemap(_big_urlset(20_000), "https://ex.vn/sitemap.xml", 50)
    assert len(page.entries) == 50
    assert page.total == 20_000
    assert page.dropped == 19_950
    assert [entry.url for entry in page.entries] == [f"https://ex.vn/a-{i}.html" for i in range(19_950, 20_000)]


def test_an_index_with_too_many_children_is_capped():
    children = "".join(f"<sitemap><loc>https://ex.vn/s-{i}.xml</loc></sitemap>" for i in range(300))
    page = parse_sitemap(f"<sitemapindex>{children}</sitemapindex>".encode(), "https://ex.vn/sitemap.xml", 10)
    assert len(page.children) == 10
    assert page.dropped == 290


def test_reading_stops_at_the_protocols_50000_urls():
    body = b"<urlset>" + b"<url><loc>https://ex.vn/a</loc></url>" * 60_000 + b"</urlset>"
    page = parse_sitemap(body, "https://ex.vn/sitemap.xml", 10)
    assert page.truncated
    assert page.total == 50_000
    assert page.entries == [Entry("https://ex.vn/a", None, None)]


def test_a_truncated_sitemap_yields_its_complete_records():
    """A body cut short (download size limit, dropped connection) still gives what arrived."""
    body = _big_urlset(10)
    page = parse_sitemap(body[: body.index(b"https://ex.vn/a-7.html")], "https://ex.vn/sitemap.xml", 100)
    assert [entry.url for entry in page.entries][:7] == [f"https://ex.vn/a-{i}.html" for i in range(7)]


def test_a_feed_given_as_sitemap_is_read():
    rss = (
        b"<rss version='2.0'><channel><item><title>Tin</title><link>https://ex.vn/a-1.html</link>"
        b"<pubDate>Wed, 14 Aug 2024 03:00:00 GMT</pubDate></item></channel></rss>"
    )
    page = parse_sitemap(rss, "https://ex.vn/rss.xml", 10)
    assert page.entries == [Entry("https://ex.vn/a-1.html", "Tin", datetime(2024, 8, 14, 3, 0, tzinfo=UTC))]


def test_a_text_sitemap_is_read():
    body = b"https://ex.vn/a-1.html\r\nhttps://ex.vn/b-2.html?utm_source=x\n\nnot a url\nhttps://ex.vn/a-1.html\n"
    page = parse_sitemap(body, "https://ex.vn/sitemap.txt", 10)
    assert [entry.url for entry in page.entries] == ["https://ex.vn/a-1.html", "https://ex.vn/b-2.html"]
    assert page.skipped == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"<html><body>Not found</body></html>", "<html>"),
        (b"Internal Server Error", "not well-formed"),
        (b"\x00\x00\x00binary", "not well-formed"),
    ],
)
def test_garbage_raises_sitemap_error_with_a_reason(body, reason):
    with pytest.raises(SitemapError, match=reason):
        parse_sitemap(body, "https://ex.vn/sitemap.xml", 10)


@pytest.mark.timeout(10)
def test_billion_laughs_is_not_expanded():
    body = (
        '<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY lol0 "lol">'
        + "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10))
        + "]><urlset><url><loc>https://ex.vn/a-1.html</loc><news:news><news:title>&lol9;</news:title>"
        "</news:news></url></urlset>"
    ).encode()
    try:
        page = parse_sitemap(body, "https://ex.vn/sitemap.xml", 10)
    except SitemapError:
        return
    assert "lollol" not in repr(page)


def test_external_entity_cannot_read_a_local_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        "<urlset><url><loc>https://ex.vn/a-1.html?leak=&xxe;</loc>"
        "<news:news><news:title>&xxe;</news:title><news:keywords>&xxe;</news:keywords></news:news></url></urlset>"
    ).encode()
    try:
        page = parse_sitemap(body, "https://ex.vn/sitemap.xml", 10)
    except SitemapError:
        return
    assert "TOP-SECRET-42" not in repr(page)
