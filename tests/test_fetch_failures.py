"""The run summary's failure lines: one line per reason, not one per entry point."""

from crawler.fetch_failures import group_by_reason


def test_a_site_that_is_down_is_reported_once_with_its_urls():
    reason = "unreachable: host name does not resolve"
    messages = [f"https://news.example/{path}: {reason}" for path in ("rss", "world.rss", "sitemap.xml")]
    assert group_by_reason(messages) == [
        f"{reason} (3 URLs: https://news.example/rss, https://news.example/world.rss, "
        "https://news.example/sitemap.xml)"
    ]


def test_distinct_reasons_keep_their_url_and_their_order():
    messages = [
        "https://a.example/feed: HTTP 503",
        "http://127.0.0.1:8080/sitemap.xml: timed out after 30 s",
        "https://a.example/other: HTTP 503",
        "robots.txt refused 2 article pages",
    ]
    assert group_by_reason(messages) == [
        "HTTP 503 (2 URLs: https://a.example/feed, https://a.example/other)",
        "http://127.0.0.1:8080/sitemap.xml: timed out after 30 s",
        "robots.txt refused 2 article pages",
    ]


def test_no_failures_gives_no_lines():
    assert group_by_reason([]) == []
