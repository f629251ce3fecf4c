"""RSS 2.0, RSS 1.0 (RDF) and Atom parsing: links, titles, dates, caps, broken and hostile XML."""

from __future__ import annotations

import gzip
import http.server
import threading
from datetime import datetime, timedelta, timezone

import pytest

from crawler.feeds import Entry, FeedError, parse_feed, parse_feed_page

UTC = timezone.utc

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">
<channel>
  <title>Quân đội nhân dân - Quốc phòng</title>
  <link>https://www.qdnd.vn/quoc-phong</link>
  <atom:link href="https://www.qdnd.vn/rss/quoc-phong" rel="self" type="application/rss+xml"/>
  <item>
    <title><![CDATA[Việt Nam - Nga thúc đẩy <b>hợp tác quốc phòng</b>]]></title>
    <link>https://www.qdnd.vn/quoc-phong/doi-ngoai/viet-nam-nga-thuc-day-hop-tac-quoc-phong-812345?utm_source=rss&amp;utm_medium=feed</link>
    <guid isPermaLink="false">812345</guid>
    <pubDate>Thu, 14 Aug 2024 10:30:00 +0700</pubDate>
    <category>Quốc phòng</category>
    <category>Đối ngoại</category>
  </item>
  <item>
    <title>Tàu Hải quân Nga thăm Cam Ranh</title>
    <link>/quoc-phong/tau-hai-quan-nga-tham-cam-ranh-812346</link>
    <dc:date>2024-08-13T08:00:00+07:00</dc:date>
  </item>
  <item>
    <title>Bài chỉ có guid</title>
    <guid>https://www.qdnd.vn/quoc-phong/bai-chi-co-guid-812347</guid>
    <pubDate>Tue, 13 Aug 2024 01:00:00 GMT+7</pubDate>
  </item>
  <item>
    <title>Bài không có đường dẫn</title>
    <guid isPermaLink="false">tag:qdnd.vn,2024:812348</guid>
  </item>
  <item>
    <title>FeedBurner proxy</title>
    <link>https://feeds.feedburner.com/~r/qdnd/~3/abc/</link>
    <feedburner:origLink>https://www.qdnd.vn/quoc-phong/bai-qua-feedburner-812349</feedburner:origLink>
    <pubDate>not a date</pubDate>
  </item>
</channel>
</rss>""".encode()

RDF = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://example.ru/"><title>Example</title></channel>
  <item rdf:about="https://example.ru/news/1">
    <title>Russia and Vietnam hold defence talks</title>
    <link>https://example.ru/news/2024/08/14/russia-vietnam-talks.html</link>
    <dc:date>2024-08-14</dc:date>
    <dc:subject>defence</dc:subject>
  </item>
</rdf:RDF>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://tass.example/">
  <title>TASS</title>
  <entry xml:base="armiya-i-opk/">
    <title type="html">Россия и Вьетнам &lt;i&gt;расширяют&lt;/i&gt; военное сотрудничество</title>
    <link rel="self" href="https://tass.example/api/entry/21612345"/>
    <link rel="alternate" type="text/html" href="21612345"/>
    <link rel="enclosure" type="image/jpeg" href="https://tass.example/img/1.jpg"/>
    <id>tag:tass.example,2024:21612345</id>
    <published>2024-08-14T12:00:00+03:00</published>
    <updated>2024-08-15T00:00:00Z</updated>
    <category term="Армия и ОПК"/>
  </entry>
  <entry>
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Only <b>updated</b></div></title>
    <link href="https://tass.example/politika/21612346"/>
    <updated>2024-08-13T09:00:00Z</updated>
  </entry>
</feed>""".encode()


def test_rss2_entries():
    entries = parse_feed(RSS, "https://www.qdnd.vn/rss/quoc-phong", 100)
    assert entries[0] == Entry(
        url="https://www.qdnd.vn/quoc-phong/doi-ngoai/viet-nam-nga-thuc-day-hop-tac-quoc-phong-812345",
        title="Việt Nam - Nga thúc đẩy hợp tác quốc phòng",
        published=datetime(2024, 8, 14, 3, 30, tzinfo=UTC),
        keywords="Quốc phòng, Đối ngoại",
    )
    # a relative link resolves against the feed URL; dc:date is read
    assert entries[1].url == "https://www.qdnd.vn/quoc-phong/tau-hai-quan-nga-tham-cam-ranh-812346"
    assert entries[1].published == datetime(2024, 8, 13, 1, 0, tzinfo=UTC)
    # a permalink guid stands in for a missing <link>; "GMT+7" is understood
    assert entries[2].url == "https://www.qdnd.vn/quoc-phong/bai-chi-co-guid-812347"
    assert entries[2].published == datetime(2024, 8, 12, 18, 0, tzinfo=UTC)
    # FeedBurner's origLink wins over the proxy link; an unreadable date is None, not an error
    assert entries[3].url == "https://www.qdnd.vn/quoc-phong/bai-qua-feedburner-812349"
    assert entries[3].published is None
    assert len(entries) == 4


def test_item_without_usable_link_is_skipped_and_counted():
    page = parse_feed_page(RSS, "https://www.qdnd.vn/rss/quoc-phong", 100)
    assert page.total == 5
    assert page.skipped == 1
    assert page.dropped == 0
    assert all(entry.title != "Bài không có đường dẫn" for entry in page.entries)


def test_rss1_rdf_entries():
    (entry,) = parse_feed(RDF, "https://example.ru/rss.rdf", 10)
    assert entry == Entry(
        url="https://example.ru/news/2024/08/14/russia-vietnam-talks.html",
        title="Russia and Vietnam hold defence talks",
        published=datetime(2024, 8, 14, tzinfo=UTC),
        keywords="defence",
    )


def test_atom_entries():
    first, second = parse_feed(ATOM, "https://tass.example/rss/atom.xml", 10)
    # rel=alternate link resolved against the nested xml:base; self and enclosure links ignored
    assert first.url == "https://tass.example/armiya-i-opk/21612345"
    assert first.title == "Россия и Вьетнам расширяют военное сотрудничество"
    assert first.published == datetime(2024, 8, 14, 9, 0, tzinfo=UTC)  # <published> wins over <updated>
    assert first.keywords == "Армия и ОПК"
    assert second.url == "https://tass.example/politika/21612346"
    assert second.title == "Only updated"
    assert second.published == datetime(2024, 8, 13, 9, 0, tzinfo=UTC)


def test_dates_are_aware_utc():
    for entry in parse_feed(RSS, "https://www.qdnd.vn/rss", 100) + parse_feed(ATOM, "https://tass.example/", 10):
        if entry.published is not None:
            assert entry.published.utcoffset() == timedelta(0)


def _big_feed(count: int) -> bytes:
    """``count`` items, oldest first, one per hour."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    items = "".join(
        f"<item><title>Tin {i}</title><link>https://ex.vn/tin-{i}.html</link>"
        f"<pubDate>{(start + timedelta(hours=i)).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        for i in range(count)
    )
    return f"<rss version='2.0'><channel><title>x</title>{items}</channel></rss>".encode()


def test_a_feed_with_thousands_of_items_is_capped_to_the_newest():
    page = parse_feed_page(_big_feed(5000), "https://ex.vn/rss", 20)
    assert len(page.entries) == 20
    assert page.total == 5000
    assert page.dropped == 4980
    # the newest 20 (items 4980..4999) are kept, in document order
    assert [entry.url for entry in page.entries] == [f"https://ex.vn/tin-{i}.html" for i in range(4980, 5000)]


def test_cap_keeps_document_order_when_undated():
    body = b"<rss><channel>" + b"".join(
        b"<item><link>https://ex.vn/a-%d.html</link></item>" % i for i in range(10)
    ) + b"</channel></rss>"
    entries = parse_feed(body, "https://ex.vn/rss", 3)
    assert [entry.url for entry in entries] == ["https://ex.vn/a-0.html", "https://ex.vn/a-1.html", "https://ex.vn/a-2.html"]


def test_repeated_item_appears_once():
    body = b"<rss><channel>" + b"<item><link>https://ex.vn/a-1.html?utm_source=x</link></item>" * 3 + b"</channel></rss>"
    page = parse_feed_page(body, "https://ex.vn/rss", 10)
    assert [entry.url for entry in page.entries] == ["https://ex.vn/a-1.html"]
    assert page.skipped == 2


def test_gzipped_feed_is_read():
    assert parse_feed(gzip.compress(RSS), "https://www.qdnd.vn/rss.xml.gz", 100) == parse_feed(
        RSS, "https://www.qdnd.vn/rss.xml.gz", 100
    )


def test_broken_feed_is_repaired():
    """Bare ampersands and HTML entities: the commonest breakage; the query string must survive."""
    body = (
        b"<?xml version='1.0'?>\n<rss><channel><item><title>Nga & Vi\xe1\xbb\x87t&nbsp;Nam</title>"
        b"<link>https://ex.vn/tin.php?id=5&cat=2</link></item></channel></rss>"
    )
    (entry,) = parse_feed(body, "https://ex.vn/rss", 10)
    assert entry.url == "https://ex.vn/tin.php?id=5&cat=2"
    assert entry.title == "Nga & Việt Nam"


def test_leading_whitespace_and_bom_are_tolerated():
    body = b"\xef\xbb\xbf\n\n  <?xml version='1.0' encoding='utf-8'?><rss><channel><item><link>https://ex.vn/a-1.html</link></item></channel></rss>"
    assert [entry.url for entry in parse_feed(body, "https://ex.vn/rss", 10)] == ["https://ex.vn/a-1.html"]


def test_windows_1251_feed():
    body = (
        "<?xml version='1.0' encoding='windows-1251'?><rss><channel><item><title>Армия России</title>"
        "<link>https://ex.ru/a/1</link></item></channel></rss>"
    ).encode("cp1251")
    assert parse_feed(body, "https://ex.ru/rss", 10)[0].title == "Армия России"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"Service temporarily unavailable", "not well-formed"),
        (b'{"items": []}', "not well-formed"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not well-formed"),
        (b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>hi</p></body></html>", "<html>"),
        (b"<urlset><url><loc>https://ex.vn/a</loc></url></urlset>", "<urlset>"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
    ],
)
def test_garbage_raises_feed_error_with_a_reason(body, reason):
    with pytest.raises(FeedError) as raised:
        parse_feed(body, "https://ex.vn/rss", 10)
    assert reason in str(raised.value)
    assert len(str(raised.value)) < 250


def test_empty_feed_is_not_an_error():
    assert parse_feed(b"<rss version='2.0'><channel><title>t</title></channel></rss>", "https://ex.vn/rss", 10) == []


# --- hostile XML -------------------------------------------------------------------------


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    + ']><rss><channel><item><title>&lol9;</title><link>https://ex.vn/a-1.html</link></item></channel></rss>'
).encode()


@pytest.mark.timeout(10)
def test_billion_laughs_is_not_expanded():
    try:
        entries = parse_feed(BILLION_LAUGHS, "https://ex.vn/rss", 10)
    except FeedError:
        return  # a clean refusal is fine too
    assert all(len(entry.title or "") < 100 for entry in entries)
    assert "lollol" not in repr(entries)


def test_external_entity_cannot_read_a_local_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        '<rss><channel><item><title>Leak: &xxe;</title><link>https://ex.vn/a-1.html</link>'
        "<category>&xxe;</category></item></channel></rss>"
    ).encode()
    try:
        entries = parse_feed(body, "https://ex.vn/rss", 10)
    except FeedError:
        return
    assert "TOP-SECRET-42" not in repr(entries)


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's naming)
        type(self).hits.append(self.path)
        body = b'<!ENTITY leak "FETCHED-FROM-NETWORK">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def counting_server():
    _CountingHandler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _CountingHandler.hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_parsing_never_touches_the_network(counting_server):
    base, hits = counting_server
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{base}/evil.dtd" ['
        f'<!ENTITY % remote SYSTEM "{base}/param.dtd"> %remote;'
        f'<!ENTITY ext SYSTEM "{base}/ext.txt">]>'
        "<rss><channel><item><title>&ext; &leak;</title><link>https://ex.vn/a-1.html</link></item></channel></rss>"
    ).encode()
    try:
        entries = parse_feed(body, "https://ex.vn/rss", 10)
    except FeedError:
        entries = []
    assert hits == []
    assert "FETCHED-FROM-NETWORK" not in repr(entries)
