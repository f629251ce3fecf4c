"""The bundled replay news site: what a crawler sees when it fetches it over 127.0.0.1."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
import urllib.robotparser
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from crawler.config import parse_config
from crawler.demo_site import serve_demo_site

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}
VI_WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]
RU_MONTHS = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
             "октября", "ноября", "декабря"]
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]
# No proxy, ever: the site is on loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def fetch_text(url: str) -> str:
    status, headers, body = fetch(url)
    assert status == 200, url
    return body.decode(headers.get_content_charset() or "utf-8")


class _PageReader(HTMLParser):
    """Visible text (scripts and styles left out) and links of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.links: list[dict[str, str]] = []
        self.metas: dict[str, str] = {}
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "a" and "href" in attrs:
            self.links.append(attrs)
        elif tag == "meta" and "content" in attrs:
            self.metas[attrs.get("property") or attrs.get("name") or attrs.get("charset", "")] = attrs["content"]
        elif tag == "meta" and "charset" in attrs:
            self.metas["charset"] = attrs["charset"]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())


def read_page(url: str) -> _PageReader:
    reader = _PageReader()
    reader.feed(fetch_text(url))
    return reader


def without_query(url: str) -> str:
    return url.split("?", 1)[0]


@pytest.fixture(scope="module")
def site():
    with serve_demo_site() as running:
        yield running


def articles_of(site, outlet_name: str):
    return [article for article in site.articles if article.outlet == outlet_name]


# --- feeds and sitemaps ------------------------------------------------------


def test_every_outlet_feed_lists_its_articles_with_titles_and_dates(site):
    for outlet in site.outlets:
        root = ET.fromstring(fetch(outlet.feed_url)[2])
        if root.tag == f"{{{NS['atom']}}}feed":
            entries = {
                without_query(entry.find("atom:link", NS).get("href")): (
                    entry.findtext("atom:title", namespaces=NS),
                    datetime.fromisoformat(entry.findtext("atom:published", namespaces=NS)),
                )
                for entry in root.findall("atom:entry", NS)
            }
        else:
            assert root.tag == "rss" and root.get("version") == "2.0"
            entries = {
                without_query(item.findtext("link")): (
                    item.findtext("title"),
                    parsedate_to_datetime(item.findtext("pubDate")),
                )
                for item in root.iter("item")
            }
        expected = {a.url: (a.title, a.published) for a in articles_of(site, outlet.name)}
        assert entries == expected, outlet.name
    formats = {ET.fromstring(fetch(o.feed_url)[2]).tag for o in site.outlets}
    assert formats == {"rss", f"{{{NS['atom']}}}feed"}, "one outlet serves Atom, the others RSS 2.0"


def test_tracking_parameters_in_a_feed_link_lead_to_the_same_page(site):
    root = ET.fromstring(fetch(site.outlet("vgp").feed_url)[2])
    links = [item.findtext("link") for item in root.iter("item")]
    assert links and all("utm_source=" in link for link in links)
    status, _, body = fetch(links[0])
    assert status == 200 and body == fetch(without_query(links[0]))[2]


def test_sitemap_index_points_at_news_sitemaps_listing_every_article(site):
    index = ET.fromstring(fetch(site.url("/sitemap_index.xml"))[2])
    sitemap_urls = [loc.text for loc in index.findall("sm:sitemap/sm:loc", NS)]
    assert sorted(sitemap_urls) == sorted(o.sitemap_url for o in site.outlets)
    for outlet in site.outlets:
        urlset = ET.fromstring(fetch(outlet.sitemap_url)[2])
        listed = {}
        for url in urlset.findall("sm:url", NS):
            published = datetime.fromisoformat(url.findtext("news:news/news:publication_date", namespaces=NS))
            assert datetime.fromisoformat(url.findtext("sm:lastmod", namespaces=NS)) == published
            listed[url.findtext("sm:loc", namespaces=NS)] = (url.findtext("news:news/news:title", namespaces=NS),
                                                              published)
        listed.pop(site.url("/private/secret.html"), None)
        assert listed == {a.url: (a.title, a.published) for a in articles_of(site, outlet.name)}, outlet.name


def test_dates_are_relative_to_start_and_one_article_is_older_than_the_window(site):
    now = datetime.now(UTC)
    old = [a for a in site.articles if a.kind == "old"]
    assert len(old) == 1 and old[0].relevant
    assert now - old[0].published > timedelta(days=20)
    for article in site.articles:
        if article.kind != "old":
            assert timedelta(0) < now - article.published < timedelta(days=13), article.id
    sitemap = fetch(site.outlet(old[0].outlet).sitemap_url)[2].decode()
    assert old[0].url in sitemap and old[0].published.astimezone(site.outlet(old[0].outlet).tz).isoformat() in sitemap


# --- listings and robots.txt -------------------------------------------------


def walk_listing(start: str) -> list[tuple[list[str], set[str]]]:
    """Follow rel="next" from ``start``: per page, the headline links and every link."""
    pages, url = [], start
    while url:
        html = fetch_text(url)
        reader = _PageReader()
        reader.feed(html)
        headlines = [urljoin(url, href) for href in re.findall(r'class="story__title"><a href="([^"]+)"', html)]
        pages.append((headlines, {urljoin(url, link["href"]) for link in reader.links}))
        following = [link["href"] for link in reader.links if "next" in link.get("rel", "").split()]
        url = urljoin(url, following[0]) if following else None
        assert len(pages) < 20
    return pages


def test_listings_paginate_five_articles_a_page_through_every_listed_article(site):
    page_counts = {}
    for outlet in site.outlets:
        listed = [a.url for a in articles_of(site, outlet.name) if a.in_listing]
        pages = walk_listing(outlet.listing_url)
        page_counts[outlet.name] = len(pages)
        headlines = [url for page_headlines, _ in pages for url in page_headlines if "/private/" not in url]
        assert headlines == listed, f"{outlet.name}: newest first, each listed article once"
        sizes = [len([url for url in h if "/private/" not in url]) for h, _ in pages]
        assert sizes[:-1] == [5] * (len(pages) - 1) and 1 <= sizes[-1] <= 5
    assert page_counts["qdnd"] >= 2 and page_counts["vnx"] >= 2, page_counts
    assert fetch(site.url("/qdnd/?page=2"))[0] == 200 and fetch(site.url("/vnx/page/2/"))[0] == 200
    assert fetch(site.url("/qdnd/?page=9"))[0] == 404 and fetch(site.url("/vnx/page/9/"))[0] == 404


def test_the_old_article_is_on_no_listing_page(site):
    old = next(a for a in site.articles if a.kind == "old")
    links = set().union(*(links for _, links in walk_listing(site.outlet(old.outlet).listing_url)))
    assert old.url not in links


def test_robots_txt_disallows_the_private_page_a_listing_links_to(site):
    status, headers, body = fetch(site.url("/robots.txt"))
    assert status == 200 and headers.get_content_type() == "text/plain"
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(body.decode().splitlines())
    private = site.url("/private/secret.html")
    assert not robots.can_fetch("newsmon", private)
    for outlet in site.outlets:
        assert robots.can_fetch("newsmon", outlet.feed_url) and robots.can_fetch("newsmon", outlet.listing_url)
    assert all(robots.can_fetch("newsmon", a.url) for a in site.articles)
    assert private in {urljoin(site.base_url, link["href"]) for link in read_page(site.outlet("qdnd").listing_url).links}
    assert fetch(private)[0] == 200, "the page exists: only robots.txt keeps a crawler out"
    sitemap = ET.fromstring(fetch(site.outlet("qdnd").sitemap_url)[2])
    entry = next(url for url in sitemap.findall("sm:url", NS) if url.findtext("sm:loc", namespaces=NS) == private)
    listed_at = datetime.fromisoformat(entry.findtext("news:news/news:publication_date", namespaces=NS))
    assert datetime.now(UTC) - listed_at < timedelta(days=1), "dated inside any crawl window"


# --- article pages -----------------------------------------------------------


def expected_date_line(article, outlet) -> str:
    local = article.published.astimezone(outlet.tz)
    clock = f"{local:%H:%M}"
    return {
        "qdnd": f"{VI_WEEKDAYS[local.weekday()]}, {local.day}/{local.month}/{local.year} - {clock} (GMT+7)",
        "vnx": f"{VI_WEEKDAYS[local.weekday()]}, {local.day}/{local.month}/{local.year} - {clock} (GMT+7)",
        "vgp": f"{local:%d/%m/%Y} {clock}",
        "ttxvn": f"{local:%d/%m/%Y} {clock}",
        "tass": f"{local.day} {RU_MONTHS[local.month - 1]} {local.year}, {clock}",
        "vnplus-en": f"{EN_MONTHS[local.month - 1]} {local.day}, {local.year} - {clock} (GMT+7)",
    }[outlet.name]


def test_article_pages_show_title_date_line_and_the_whole_body(site):
    with_meta = set()
    for article in site.articles:
        outlet = site.outlet(article.outlet)
        page = read_page(article.url)
        assert article.title in page.text
        assert expected_date_line(article, outlet) in page.text, article.id
        for paragraph in article.paragraphs:
            assert paragraph in page.text, article.id
        assert article.first_sentence in page.text and article.last_sentence in page.text
        if article.credit:
            assert article.credit in page.text
        if article.photo:
            assert article.photo.caption in page.text and article.photo.credit in page.text
        if "article:published_time" in page.metas:
            with_meta.add(outlet.name)
            assert datetime.fromisoformat(page.metas["article:published_time"]) == article.published
    assert with_meta and with_meta != {o.name for o in site.outlets}, "only some outlets carry the meta tag"


def short_date(article, outlet) -> str:
    local = article.published.astimezone(outlet.tz)
    if outlet.lang == "vi":
        return f"{local:%H:%M} | {local:%d/%m/%Y}"
    if outlet.lang == "ru":
        return f"{local:%d.%m.%Y}, {local:%H:%M}"
    return f"{EN_MONTHS[local.month - 1]} {local.day}, {local.year}"


def test_article_pages_carry_related_links_with_other_titles_and_dates(site):
    headings = {"qdnd": "TIN LIÊN QUAN", "vgp": "Bài viết liên quan", "ttxvn": "Có thể bạn quan tâm",
                "vnx": "Có thể bạn quan tâm", "tass": "Читайте также", "vnplus-en": "Related news"}
    by_url = {a.url: a for a in site.articles}
    for article in site.articles:
        outlet = site.outlet(article.outlet)
        html = fetch_text(article.url)
        box = re.search(r'<section class="related">(.*?)</section>', html, re.S).group(1)
        assert headings[outlet.name] in box
        items = re.findall(r'<a href="([^"]+)">([^<]+)</a>\s*<span class="related__date">([^<]+)</span>', box)
        assert items, article.id
        for href, title, shown_date in items:
            other = by_url[href]
            assert other.outlet == article.outlet and other.story != article.story
            assert title.replace("&#39;", "'") == other.title and shown_date == short_date(other, outlet)
            if outlet.lang != "en":
                assert shown_date != short_date(article, outlet)


def test_pages_have_the_furniture_of_real_news_pages(site):
    article = site.article("s3-vnx")
    html = fetch_text(article.url)
    for marker in ("<nav", 'class="breadcrumb"', "<footer", "<script>", "adsbygoogle", "<figcaption>", "<h1"):
        assert marker in html
    assert re.search(r"<p>null</p>", html), "vnx pages end with a CMS's stray 'null'"


def test_russian_outlet_declares_windows_1251(site):
    article = site.article("tass-belousov-giang")
    status, headers, body = fetch(article.url)
    assert headers.get_content_charset() == "windows-1251"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("windows-1251")
    assert 'charset="windows-1251"' in text or "charset=windows-1251" in text
    assert article.first_sentence in text and "Белоусов" in article.title


# --- content -----------------------------------------------------------------


def test_seed_bodies_are_the_seed_texts_without_their_sidebar_junk(site):
    seeds = [a for a in site.articles if a.kind == "seed"]
    assert len(seeds) == 5 and len({a.story for a in seeds}) == 5
    seed_texts = [" ".join(path.read_text(encoding="utf-8").split()) for path in sorted(SEEDS.glob("0*.txt"))]
    for article in seeds:
        sources = [text for text in seed_texts if article.paragraphs[1] in text]
        assert len(sources) == 1, article.id
        for paragraph in article.paragraphs:
            assert paragraph in sources[0]
        for junk in ("Tin liên quan", "TIN LIÊN QUAN", "Có thể bạn quan tâm", "Bài viết liên quan", "null",
                     "Theo VGP News", "(Ảnh:"):
            assert junk not in article.text, (article.id, junk)


def test_copies_are_edited_republications_by_other_outlets(site):
    copies = [a for a in site.articles if a.kind == "copy"]
    assert len(copies) >= 4
    for copy in copies:
        original = site.article(copy.copy_of)
        assert copy.story == original.story and copy.outlet != original.outlet
        assert copy.title != original.title and copy.published > original.published
        kept = [p for p in copy.paragraphs if p in original.paragraphs]
        assert len(kept) >= len(copy.paragraphs) - 1, "a copy keeps the original's paragraphs"
    assert any(c.last_sentence != site.article(c.copy_of).last_sentence for c in copies), "some are trimmed"
    assert any(c.credit and not site.article(c.copy_of).credit for c in copies), "some add a credit line"
    assert any(not c.credit for c in copies), "some drop it"
    wire = {o.name for o in site.outlets if o.wire}
    wire_stories = {a.story for a in site.articles if a.outlet in wire and a.kind == "seed"}
    assert any(len({c.outlet for c in copies if c.story == story}) >= 2 for story in wire_stories)


def test_content_has_on_topic_articles_in_every_language_and_the_traps(site):
    relevant_langs = {a.lang for a in site.articles if a.relevant and a.kind == "ontopic"}
    assert {"en", "ru"} <= relevant_langs
    offtopic = [a for a in site.articles if a.kind == "offtopic"]
    assert all(not a.relevant for a in offtopic)
    titles = " | ".join(a.title for a in offtopic)
    assert "Nga Tiến" in titles and "Pembrolizumab của Nga" in titles
    assert any(a.lang == "ru" and "беспилотник" in a.text and "Вьетнам" not in a.text for a in offtopic)
    assert {a.lang for a in offtopic} == {"vi", "en", "ru"}
    assert all(3 <= len(a.paragraphs) for a in site.articles)


# --- HTTP behaviour ----------------------------------------------------------


def test_conditional_get_answers_304_when_nothing_changed(site):
    article = site.articles[0]
    for url in (site.outlets[0].feed_url, site.outlets[0].sitemap_url, site.outlets[0].listing_url, article.url,
                site.url("/robots.txt")):
        status, headers, body = fetch(url)
        etag, last_modified = headers["ETag"], headers["Last-Modified"]
        assert status == 200 and etag and last_modified
        status, headers, body = fetch(url, headers={"If-None-Match": etag})
        assert (status, body) == (304, b"") and headers["ETag"] == etag
        assert fetch(url, headers={"If-Modified-Since": last_modified})[0] == 304
        assert fetch(url, headers={"If-None-Match": '"stale"'})[0] == 200
        earlier = parsedate_to_datetime(last_modified) - timedelta(minutes=1)
        assert fetch(url, headers={"If-Modified-Since": earlier.strftime("%a, %d %b %Y %H:%M:%S GMT")})[0] == 200
    assert parsedate_to_datetime(fetch(article.url)[1]["Last-Modified"]) == article.published


def test_head_unknown_paths_and_the_request_log(site):
    site.clear_request_log()
    article = site.articles[-1]
    status, headers, body = fetch(article.url, method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000
    assert fetch(site.url("/nowhere.html"))[0] == 404
    assert fetch(site.url("/qdnd"))[0] == 404
    assert fetch(site.url("/qdnd/?page=abc"))[0] == 404
    path = urlsplit(article.url).path
    assert site.request_log == [("HEAD", path, 200), ("GET", "/nowhere.html", 404), ("GET", "/qdnd", 404),
                                ("GET", "/qdnd/?page=abc", 404)]


def test_config_toml_crawls_every_outlet_of_the_site(site, tmp_path):
    db_path = str(tmp_path / "news.db")
    config = parse_config(tomllib.loads(site.config_toml(db_path)))
    assert config.store.path == db_path
    assert config.crawl.allow_private_networks and config.crawl.obey_robots
    assert config.crawl.delay == timedelta(0)
    assert [s.name for s in config.sources] == [o.name for o in site.outlets]
    for source, outlet in zip(config.sources, site.outlets):
        assert source.lang == outlet.lang and source.wire == outlet.wire
        assert source.feeds == (outlet.feed_url,) and source.sitemaps == (outlet.sitemap_url,)
        assert source.listings == (outlet.listing_url,)
        assert source.utc_offset == outlet.utc_offset
        if source.article_pattern:
            assert all(re.search(source.article_pattern, a.url) for a in articles_of(site, outlet.name))
    assert config.source("ttxvn").wire and config.source("tass").utc_offset == "+03:00"


def test_publishing_pending_articles_changes_the_entry_points():
    with serve_demo_site() as site:
        feeds = {o.name: fetch(o.feed_url)[1]["ETag"] for o in site.outlets}
        before = {a.url for a in site.articles}
        published = site.publish_pending()
        assert published and all(a.url not in before for a in published)
        assert any(a.kind == "copy" and a.story in {b.story for b in site.articles if b.kind == "seed"}
                   for a in published)
        for article in published:
            outlet = site.outlet(article.outlet)
            status, _, body = fetch(outlet.feed_url, headers={"If-None-Match": feeds[outlet.name]})
            assert status == 200 and article.url.encode() in body
            assert article.first_sentence in read_page(article.url).text
            assert datetime.now(UTC) - article.published < timedelta(minutes=5)


# --- scale and the command line ----------------------------------------------


def test_scale_adds_thousands_of_distinct_articles_to_feeds_and_sitemaps():
    with serve_demo_site(scale=100) as site:
        articles = site.articles
        assert len(articles) >= 2000
        assert len({a.title for a in articles}) == len(articles)
        assert len({a.url for a in articles}) == len(articles)
        in_sitemaps = 0
        for outlet in site.outlets:
            urlset = ET.fromstring(fetch(outlet.sitemap_url)[2])
            in_sitemaps += len([loc for loc in urlset.iter(f"{{{NS['sm']}}}loc") if "/private/" not in loc.text])
            feed = ET.fromstring(fetch(outlet.feed_url)[2])
            entries = feed.findall("channel/item") + feed.findall("atom:entry", NS)
            assert len(entries) == len(articles_of(site, outlet.name))
        assert in_sitemaps == len(articles)
        synthetic = [a for a in articles if a.kind == "synthetic"]
        assert {a.relevant for a in synthetic} == {True, False}
        for article in synthetic[::250]:
            page = read_page(article.url)
            assert article.first_sentence in page.text and article.last_sentence in page.text
        generated = [(a.title, a.path, a.text) for a in synthetic]
    with serve_demo_site(scale=100) as again:
        assert [(a.title, a.path, a.text) for a in again.articles if a.kind == "synthetic"] == generated


def test_command_line_serves_the_site_until_interrupted():
    process = subprocess.Popen([sys.executable, "-m", "crawler.demo_site", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", first_line)
        assert match, first_line
        assert b"Disallow: /private/" in fetch(match.group(0) + "/robots.txt")[2]
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0 and stderr == ""
