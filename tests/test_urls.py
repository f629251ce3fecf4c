"""URL normalisation and same-site checks: one spelling per article, so nothing is fetched or stored twice."""

from __future__ import annotations

import pytest

from crawler.urls import normalize_url, same_site


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        # relative links resolve against the page
        ("/tin/a-1.html", "https://vnexpress.net/kinh-doanh", "https://vnexpress.net/tin/a-1.html"),
        ("b-2.html", "https://ex.vn/tin/a-1.html", "https://ex.vn/tin/b-2.html"),
        ("../b-2.html", "https://ex.vn/tin/x/a-1.html", "https://ex.vn/tin/b-2.html"),
        ("//cdn.ex.vn/a", "https://ex.vn/", "https://cdn.ex.vn/a"),
        ("?page=2", "https://ex.vn/list?page=1", "https://ex.vn/list?page=2"),
        # scheme and host are case-insensitive, the path is not
        ("HTTPS://VnExpress.NET/Kinh-Doanh", None, "https://vnexpress.net/Kinh-Doanh"),
        # fragments never name another page
        ("https://ex.vn/a-1.html#box_comment_vne", None, "https://ex.vn/a-1.html"),
        ("https://ex.vn/a-1.html#", None, "https://ex.vn/a-1.html"),
        # default ports go, others stay
        ("https://ex.vn:443/a", None, "https://ex.vn/a"),
        ("http://ex.vn:80/a", None, "http://ex.vn/a"),
        ("http://127.0.0.1:8123/a", None, "http://127.0.0.1:8123/a"),
        # an empty path is "/"
        ("https://ex.vn", None, "https://ex.vn/"),
        # dot segments
        ("https://ex.vn/a/./b/../c.html", None, "https://ex.vn/a/c.html"),
        # whitespace around and inside (newlines, tabs) the way browsers ignore it
        ("  https://ex.vn/a-\n1.html\t ", None, "https://ex.vn/a-1.html"),
    ],
)
def test_normalize_url(url, base, expected):
    assert normalize_url(url, base) == expected


def test_tracking_parameters_are_dropped_and_the_rest_kept_in_order():
    url = (
        "https://ex.vn/tin?utm_source=rss&id=42&fbclid=IwAR0&b=2&gclid=Cj0&a=1&UTM_Medium=x"
        "&utm_campaign=c&msclkid=m&mc_eid=e&_ga=2.1&q=qu%E1%BB%91c+ph%C3%B2ng"
    )
    assert normalize_url(url) == "https://ex.vn/tin?id=42&b=2&a=1&q=qu%E1%BB%91c+ph%C3%B2ng"


def test_query_made_only_of_tracking_disappears():
    assert normalize_url("https://ex.vn/a-1.html?utm_source=facebook&utm_medium=social") == "https://ex.vn/a-1.html"


def test_non_tracking_parameters_keep_their_exact_spelling():
    assert normalize_url("https://ex.vn/s?q=a+b&empty=&flag&x=%2F") == "https://ex.vn/s?q=a+b&empty=&flag&x=%2F"


@pytest.mark.parametrize(
    "url",
    [
        "mailto:toasoan@vnexpress.net",
        "javascript:void(0)",
        "javascript:;",
        "tel:02437366491",
        "data:text/html;base64,PGgxPkhpPC9oMT4=",
        "ftp://ex.vn/file",
        "",
        "   ",
        "http://",
        "http://[::1",
        "http://ex.vn:notaport/",
    ],
)
def test_non_http_or_malformed_urls_are_none(url):
    assert normalize_url(url, "https://ex.vn/") is None


def test_relative_url_without_base_is_none():
    assert normalize_url("/tin/a-1.html") is None


def test_non_ascii_and_encoded_spellings_are_one_url():
    raw = normalize_url("https://ex.vn/tìm kiếm/quốc phòng")
    encoded = normalize_url("https://ex.vn/t%c3%acm%20ki%e1%ba%bfm/qu%E1%BB%91c%20ph%C3%B2ng")
    assert raw == encoded
    assert raw.isascii()


def test_internationalised_host_becomes_punycode():
    url = normalize_url("https://Bộquốcphòng.vn/tin")
    assert url.startswith("https://xn--") and url.endswith(".vn/tin")
    assert normalize_url("https://bộquốcphòng.vn/tin") == url


@pytest.mark.parametrize(
    "url",
    [
        "https://ex.vn/a-1.html?utm_source=x&id=3#c",
        "HTTP://EX.VN:80/a/../b/c d.html?x=1&&y=2",
        "https://ex.vn/tìm kiếm?q=quốc phòng",
    ],
)
def test_normalize_is_idempotent(url):
    once = normalize_url(url)
    assert once is not None
    assert normalize_url(once) == once


@pytest.mark.parametrize(
    ("url", "source", "expected"),
    [
        ("https://vnexpress.net/a-1.html", "https://vnexpress.net/kinh-doanh", True),
        ("https://www.vnexpress.net/a-1.html", "https://vnexpress.net/", True),
        ("https://m.vnexpress.net/a-1.html", "https://www.vnexpress.net/", True),
        ("http://vnexpress.net/a-1.html", "https://vnexpress.net/", True),  # scheme does not matter
        ("https://thitruong.nld.com.vn/x", "https://nld.com.vn/kinh-te.htm", True),  # subdomain of the source
        ("https://nld.com.vn/x", "https://thitruong.nld.com.vn/", False),  # parent of the source's host
        ("https://websosanh.vn/x", "https://dantri.com.vn/", False),
        ("https://evilnld.com.vn/x", "https://nld.com.vn/", False),
        ("https://nld.com.vn.evil.example/x", "https://nld.com.vn/", False),
        ("mailto:a@nld.com.vn", "https://nld.com.vn/", False),
    ],
)
def test_same_site(url, source, expected):
    assert same_site(url, source) is expected
