"""Publication dates: the formats news sites print, and the page's own date, never a sidebar's."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crawler.dates import find_published, parse_published, parse_utc_offset

VN_PAGES = Path(__file__).parent / "fixtures" / "vn-pages"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "text, offset, expected",
    [
        # Vietnamese page headers; 10:30 in Hanoi (UTC+7) is 03:30 UTC
        ("Thứ Hai, 14/8/2024 - 10:30 (GMT+7)", "+07:00", utc(2024, 8, 14, 3, 30)),
        ("Thứ bảy, 7/3/2026, 00:05 (GMT+7)", "+07:00", utc(2026, 3, 6, 17, 5)),
        ("07/03/2026 08:06 GMT+7", "+07:00", utc(2026, 3, 7, 1, 6)),
        ("14/08/2024 10:30", "+07:00", utc(2024, 8, 14, 3, 30)),
        ("09:08 - 14/08/2024", "+07:00", utc(2024, 8, 14, 2, 8)),  # time before date
        ("10:12 | 13/11/2025", "+07:00", utc(2025, 11, 13, 3, 12)),
        ("10h30 ngày 14/8/2024", "+07:00", utc(2024, 8, 14, 3, 30)),
        ("ngày 14 tháng 8 năm 2024", "+07:00", utc(2024, 8, 13, 17, 0)),
        # day before month: 03/04 is the 3rd of April
        ("03/04/2025", "+00:00", utc(2025, 4, 3)),
        # Russian pages (Moscow, UTC+3)
        ("14.08.2024", "+03:00", utc(2024, 8, 13, 21, 0)),
        ("14 августа 2024", "+03:00", utc(2024, 8, 13, 21, 0)),
        ("14 августа 2024, 10:30", "+03:00", utc(2024, 8, 14, 7, 30)),
        ("14.08.2024 10:30 МСК", "+07:00", utc(2024, 8, 14, 7, 30)),  # printed zone wins
        ("1 марта 2026 в 09:15", "+03:00", utc(2026, 3, 1, 6, 15)),
        # English
        ("August 14, 2024", "+00:00", utc(2024, 8, 14)),
        ("14 August 2024 10:30", "+01:00", utc(2024, 8, 14, 9, 30)),
        # ISO 8601, with and without offset
        ("2024-08-14T10:30:00+07:00", "+03:00", utc(2024, 8, 14, 3, 30)),
        ("2024-08-14T10:30:00", "+07:00", utc(2024, 8, 14, 3, 30)),
        ("2024-08-14T03:30:00Z", "+07:00", utc(2024, 8, 14, 3, 30)),
        ("2026-03-07T08:52:11.000 +07:00", "+07:00", utc(2026, 3, 7, 1, 52, 11)),
        ("2026-03-07 08:07", "+07:00", utc(2026, 3, 7, 1, 7)),
        ("2024-08-14", "+07:00", utc(2024, 8, 13, 17, 0)),
        # RFC 822 from feeds
        ("Wed, 14 Aug 2024 10:30:00 +0700", "+03:00", utc(2024, 8, 14, 3, 30)),
        ("Wed, 14 Aug 2024 10:30:00 GMT", "+07:00", utc(2024, 8, 14, 10, 30)),
        ("14 Aug 2024 10:30:00 -0000", "+07:00", utc(2024, 8, 14, 3, 30)),  # no zone: local
    ],
)
def test_parses_the_formats_news_sites_print(text, offset, expected):
    parsed = parse_published(text, offset)
    assert parsed == expected
    assert parsed.tzinfo == timezone.utc


@pytest.mark.parametrize(
    "text",
    ["", "hello", "31/02/2024", "14/13/2024", "${distributionDateSource} (GMT +7)", "Tin tức", "12:30",
     "Hôm nay " + "rất nhiều chữ " * 30 + "14/08/2024"],
)
def test_no_date_for_text_without_a_valid_date(text):
    assert parse_published(text) is None


@pytest.mark.parametrize("offset", ["7", "+25:00", "GMT", "", "+07:99"])
def test_a_bad_utc_offset_is_an_error_naming_the_value(offset):
    with pytest.raises(ValueError, match="UTC offset"):
        parse_utc_offset(offset)
    with pytest.raises(ValueError):
        parse_published("14/08/2024", offset)


def _page(head: str = "", body: str = "") -> str:
    return f"<html><head><title>t</title>{head}</head><body>{body}</body></html>"


SIDEBAR = """
<aside class="sidebar"><ul>
  <li><a href="/a">Tin khác một</a><time datetime="2020-01-02T08:00:00+07:00">02/01/2020 08:00</time></li>
  <li><a href="/b">Tin khác hai</a><span class="date">03/01/2020 09:00</span></li>
</ul></aside>
"""
RELATED_AFTER = """
<div class="box-related"><h3>Tin liên quan</h3>
  <article><h3><a href="/c">Tin cũ</a></h3><time datetime="2019-05-05">05/05/2019</time></article>
</div>
"""


def test_header_date_is_found_and_sidebar_dates_before_it_are_ignored():
    body = (
        SIDEBAR
        + '<article><div class="header"><h1>Hợp tác quốc phòng Việt - Nga</h1>'
        + '<span class="date">Thứ Hai, 14/8/2024 - 10:30 (GMT+7)</span></div>'
        + "<p>Nội dung bài viết.</p></article>"
        + RELATED_AFTER
    )
    assert find_published(_page(body=body)) == utc(2024, 8, 14, 3, 30)


def test_time_element_in_the_article_header_is_used():
    body = (
        SIDEBAR
        + '<article><header><h1>Военное сотрудничество</h1>'
        + '<time datetime="2024-08-14T10:30:00+03:00">14 августа 2024</time></header><p>Текст.</p></article>'
    )
    assert find_published(_page(body=body), "+03:00") == utc(2024, 8, 14, 7, 30)


def test_a_page_whose_only_dates_are_in_sidebars_has_no_date():
    body = SIDEBAR + "<article><h1>Tiêu đề</h1><p>Nội dung không có ngày.</p></article>" + RELATED_AFTER
    assert find_published(_page(body=body)) is None


def test_meta_published_time_comes_before_the_header_text():
    head = '<meta property="article:published_time" content="2026-03-01T09:51:00+07:00">'
    body = '<article><h1>Tiêu đề</h1><span class="date">05/03/2026 10:00</span></article>'
    assert find_published(_page(head, body)) == utc(2026, 3, 1, 2, 51)


def test_json_ld_date_of_the_article_not_of_a_listed_item():
    head = """<script type="application/ld+json">
      {"@context": "https://schema.org", "@type": "ItemList",
       "itemListElement": [{"@type": "NewsArticle", "datePublished": "2020-01-01T00:00:00+07:00"}]}
    </script>
    <script type="application/ld+json">
      {"@context": "https://schema.org", "@graph": [
        {"@type": "BreadcrumbList"},
        {"@type": "NewsArticle", "headline": "x", "datePublished": "2024-08-14T10:30:00+07:00"}]}
    </script>"""
    assert find_published(_page(head, "<h1>x</h1>")) == utc(2024, 8, 14, 3, 30)


def test_broken_json_ld_is_skipped():
    head = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": </script>'
    body = '<h1>x</h1><div class="time">14/08/2024 10:30</div>'
    assert find_published(_page(head, body)) == utc(2024, 8, 14, 3, 30)


def test_itemprop_date_published():
    body = '<article><h1>x</h1><span itemprop="datePublished" content="2024-08-14T10:30:00+07:00">14/8</span></article>'
    assert find_published(_page(body=body)) == utc(2024, 8, 14, 3, 30)


def test_accepts_bytes_and_junk():
    body = '<h1>x</h1><p class="post-time">14.08.2024 10:30</p>'
    assert find_published(_page(body=body).encode("utf-8"), "+03:00") == utc(2024, 8, 14, 7, 30)
    assert find_published("") is None
    assert find_published(b"\x00\x01") is None


def _without_machine_dates(html: str) -> str:
    html = re.sub(r"<meta[^>]+>", "", html)
    return re.sub(r'<script type="application/ld\+json".*?</script>', "", html, flags=re.S)


def test_header_text_of_real_pages_without_their_meta_tags():
    # vnexpress prints "Thứ bảy, 7/3/2026, 00:05 (GMT+7)" above the headline;
    # baodautu has no date meta at all and prints "Nguyên Minh - 07/03/2026 08:47".
    vnexpress = _without_machine_dates((VN_PAGES / "vnexpress_article.html").read_text(encoding="utf-8"))
    assert find_published(vnexpress) == utc(2026, 3, 6, 17, 5)
    baodautu = (VN_PAGES / "baodautu_article.html").read_text(encoding="utf-8")
    assert "article:published_time" not in baodautu
    assert find_published(baodautu) == utc(2026, 3, 7, 1, 47)
