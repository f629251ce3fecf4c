"""Network and server faults: one real crawl of a hostile web on loopback, then what the user sees.

Every source of the crawl is one fault (a 503 with Retry-After, a slow server,
a reset connection, a redirect loop, a gzip bomb, ...) served by
:mod:`fault_server` on 127.0.0.x; a few sources are healthy. The crawl runs once
for the module (``newsmon crawl`` in a child process), a second time for the
tests about the next run, and each test checks one case in the store, the
``runs``/``run_sources`` rows or the site's request log.
"""

from __future__ import annotations

import resource
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from fault_server import (
    FaultSite,
    article_html,
    gzip_bomb,
    huge_sitemap_gz,
    newsmon_toml,
    page,
    redirect,
    reset_mid_body,
    rss_feed,
    seed_text,
    sitemap_index_xml,
    sitemap_xml,
    slow,
    status,
    streamed,
)
from newsmon_process import run_newsmon
from store_rows import rows as _rows

DOWNLOAD_MAXSIZE = 4 * 1024 * 1024
MAX_FEED_ITEMS = 5
MAX_SITEMAP_URLS = 10
CRAWL_DELAY = 1.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class HostileWeb:
    main: FaultSite
    polite: FaultSite  # robots.txt Crawl-delay
    strict: FaultSite  # robots.txt Disallow
    robots_down: FaultSite  # robots.txt answers 503
    robots_missing: FaultSite  # robots.txt answers 404
    urls: dict[str, str]  # case -> the URL the test looks at
    db_path: str
    config: Path
    first: object  # CompletedProcess of the first crawl
    peak_rss_kib: int  # the largest resident set of a child process so far


def _article(site: FaultSite, path: str, seed: int, case: str) -> str:
    return site.route(path, page(article_html(seed_text(seed), marker=f"Mã kiểm tra: {case}.")))


def _feed(site: FaultSite, path: str, urls: list[str]) -> str:
    return site.route(path, page(rss_feed([(u, f"Hợp tác quốc phòng Việt - Nga {i}") for i, u in enumerate(urls)]),
                                 "application/rss+xml"))


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    """Build the hostile web, crawl it once, and keep it up for the module's tests."""
    tmp = tmp_path_factory.mktemp("hostile")
    sites = [FaultSite("127.0.0.1"),
             FaultSite("127.0.0.2", robots=f"User-agent: *\nCrawl-delay: {CRAWL_DELAY:g}\n"),
             FaultSite("127.0.0.3", robots="User-agent: *\nDisallow: /private/\n"),
             FaultSite("127.0.0.4", robots=None),
             FaultSite("127.0.0.5", robots=None)]
    for site in sites:
        site.start()
    main, polite, strict, robots_down, robots_missing = sites
    robots_down.route("/robots.txt", status(503))
    robots_missing.route("/robots.txt", status(404))
    u: dict[str, str] = {}
    sources: list[dict] = []

    def source(name: str, *, feeds=(), sitemaps=()):
        sources.append({"name": name, "feeds": list(feeds), "sitemaps": list(sitemaps)})

    # healthy
    u["good-1"] = _article(main, "/good/1", 0, "good-1")
    u["good-2"] = _article(main, "/good/2", 1, "good-2")
    source("good", feeds=[_feed(main, "/good.rss", [u["good-1"], u["good-2"]])])
    # 5xx and 429, with and without Retry-After
    good_page = page(article_html(seed_text(2), marker="Mã kiểm tra: retry."))
    u["503-retry-after"] = main.route("/a/503-retry-after", status(503, retry_after=1, times=1, then=good_page))
    u["429-retry-after"] = main.route("/a/429-retry-after", status(429, retry_after=1, times=2, then=good_page))
    u["500-once"] = main.route("/a/500-once", status(500, times=1, then=good_page))
    u["502-always"] = main.route("/a/502-always", status(502))
    u["503-retry-after-long"] = main.route("/a/503-long", status(503, retry_after=3600))
    source("retry", feeds=[_feed(main, "/retry.rss", [u["503-retry-after"], u["429-retry-after"], u["500-once"]])])
    source("flaky", feeds=[_feed(main, "/flaky.rss", [u["502-always"], u["503-retry-after-long"]])])
    # 404 / 410
    u["404"] = main.route("/a/missing", status(404))
    u["410"] = main.route("/a/gone", status(410))
    u["gone-ok"] = _article(main, "/a/present", 3, "gone-ok")
    source("gone", feeds=[_feed(main, "/gone.rss", [u["404"], u["410"], u["gone-ok"]])])
    # slow, reset mid-body
    u["slow"] = main.route("/a/slow", slow(30, page(article_html(seed_text(4)))))
    u["reset"] = main.route("/a/reset", reset_mid_body(article_html(seed_text(4), marker="x" * 20_000)))
    source("broken", feeds=[_feed(main, "/broken.rss", [u["slow"], u["reset"]])])
    # redirects: a loop, one to another host name, an entry point looping on itself
    main.route("/loop/a", redirect("/loop/b"))
    main.route("/loop/b", redirect("/loop/a"))
    u["loop"] = main.url("/loop/a")
    _article(main, "/a/moved-here", 1, "moved")
    u["moved"] = main.route("/a/moved", redirect(main.url("/a/moved-here", host="localhost"), 301))
    u["moved-target"] = main.url("/a/moved-here", host="localhost")
    source("redirects", feeds=[_feed(main, "/redirects.rss", [u["loop"], u["moved"]])])
    source("feed-loop", feeds=[main.route("/feed-loop.rss", redirect("/feed-loop.rss"))])
    # unreachable entry points
    source("dns", feeds=["http://news.invalid/feed.rss"])
    source("refused", feeds=[f"http://127.0.0.1:{_free_port()}/feed.rss"])
    source("feed-500", feeds=[main.route("/feed-500.rss", status(500))])
    # size: too large (announced, and not announced), gzip bomb
    u["oversized"] = main.route("/a/oversized", streamed(b"<p>quoc phong</p>\n" * 1000, 3 * DOWNLOAD_MAXSIZE))
    u["oversized-chunked"] = main.route("/a/oversized-chunked", streamed(b"<p>quoc phong</p>\n" * 1000,
                                                                        3 * DOWNLOAD_MAXSIZE, announce_length=False))
    u["bomb"] = main.route("/a/bomb", gzip_bomb())
    source("size", feeds=[_feed(main, "/size.rss", [u["oversized"], u["oversized-chunked"], u["bomb"]])])
    # caps: a sitemap index recursing into itself, a sitemap of a million URLs, a feed of 5,000 items
    main.route("/sitemap-loop.xml", page(sitemap_index_xml([main.url("/sitemap-loop.xml"),
                                                            main.url("/sitemap-loop-2.xml")]), "application/xml"))
    main.route("/sitemap-loop-2.xml", page(sitemap_index_xml([main.url("/sitemap-loop.xml")]), "application/xml"))
    source("sitemap-loop", sitemaps=[main.url("/sitemap-loop.xml")])
    main.route("/huge.xml.gz", page(huge_sitemap_gz(main.base_url, 1_000_000), "application/x-gzip"))
    main.route("/large.xml", page(sitemap_xml([main.url(f"/large/{n}") for n in range(20_000)]), "application/xml"))
    source("huge-sitemap", sitemaps=[main.url("/huge.xml.gz"), main.url("/large.xml")])
    big = [main.url(f"/big/{n}") for n in range(5000)]
    source("big-feed", feeds=[main.route("/big.rss", page(rss_feed([(url, f"Tin {n}") for n, url in enumerate(big)]),
                                                          "application/rss+xml"))])
    # robots.txt: Crawl-delay, Disallow, 503 (unreachable), 404 (no rules)
    u["polite-1"] = _article(polite, "/p/1", 0, "polite-1")
    u["polite-2"] = _article(polite, "/p/2", 1, "polite-2")
    source("polite", feeds=[_feed(polite, "/feed.rss", [u["polite-1"], u["polite-2"]])])
    u["private"] = _article(strict, "/private/secret", 2, "private")
    u["public"] = _article(strict, "/news/open", 3, "public")
    source("strict", feeds=[_feed(strict, "/feed.rss", [u["private"], u["public"]])])
    u["robots-down-article"] = _article(robots_down, "/news/1", 4, "robots-down")
    source("robots-down", feeds=[_feed(robots_down, "/feed.rss", [u["robots-down-article"]])])
    u["robots-missing-article"] = _article(robots_missing, "/news/1", 0, "robots-missing")
    source("robots-missing", feeds=[_feed(robots_missing, "/feed.rss", [u["robots-missing-article"]])])

    db_path = str(tmp / "news.db")
    config = tmp / "newsmon.toml"
    config.write_text(newsmon_toml(db_path, sources, download_timeout="1s", download_maxsize=DOWNLOAD_MAXSIZE,
                                   max_feed_items=MAX_FEED_ITEMS, max_sitemap_urls=MAX_SITEMAP_URLS,
                                   concurrency_per_domain=8), encoding="utf-8")
    first = run_newsmon("crawl", config=config, timeout=120)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    try:
        yield HostileWeb(main, polite, strict, robots_down, robots_missing, u, db_path, config, first, peak)
    finally:
        for site in sites:
            site.stop()


def _article_row(web: HostileWeb, url: str):
    found = _rows(web.db_path, "SELECT * FROM articles WHERE url = ?", url)
    return found[0] if found else None


def _source_row(web: HostileWeb, name: str):
    return _rows(web.db_path, "SELECT * FROM run_sources WHERE source = ? ORDER BY run_id LIMIT 1", name)[0]


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_crawl_with_failing_sources_is_partial_and_stores_the_good_ones(web):
    assert web.first.returncode == 0, web.first.stderr
    run = _rows(web.db_path, "SELECT * FROM runs ORDER BY id LIMIT 1")[0]
    assert run["status"] == "partial"
    assert _source_row(web, "good")["status"] == "ok"
    for case in ("good-1", "good-2"):
        row = _article_row(web, web.urls[case])
        assert row is not None and f"Mã kiểm tra: {case}." in row["text"]
    failed = {r["source"] for r in _rows(web.db_path, "SELECT source FROM run_sources WHERE status = 'failed'")}
    assert failed == {"dns", "refused", "feed-500", "feed-loop", "robots-down"}
    assert "FAILED" in web.first.stderr and "dns" in web.first.stderr


def test_retry_after_is_honoured_and_the_page_stored(web):
    for case in ("503-retry-after", "429-retry-after"):
        assert _article_row(web, web.urls[case]) is not None, case
        hits = web.main.hits(_path(web.urls[case]))
        assert len(hits) >= 2
        waits = [later.at - earlier.at for earlier, later in zip(hits, hits[1:])]
        assert min(waits) >= 0.9, f"{case}: retried {waits} s after Retry-After: 1"


def test_5xx_without_retry_after_is_retried_at_most_twice(web):
    assert _article_row(web, web.urls["500-once"]) is not None
    assert len(web.main.hits(_path(web.urls["500-once"]))) == 2
    assert len(web.main.hits(_path(web.urls["502-always"]))) == 3  # the first try and RETRY_TIMES = 2
    assert _article_row(web, web.urls["502-always"]) is None
    assert f"{web.urls['502-always']}: HTTP 502" in _source_row(web, "flaky")["error"]


def test_a_retry_after_beyond_the_bound_is_not_waited_for(web):
    assert len(web.main.hits(_path(web.urls["503-retry-after-long"]))) == 1
    error = _source_row(web, "flaky")["error"]
    assert "HTTP 503 (Retry-After 3600 s is longer than the 60 s newsmon waits" in error


def test_404_and_410_are_recorded_and_not_retried(web):
    for case, code in (("404", 404), ("410", 410)):
        assert len(web.main.hits(_path(web.urls[case]))) == 1, case
        state = _rows(web.db_path, "SELECT last_status FROM fetch_state WHERE url = ?", web.urls[case])
        assert state and state[0]["last_status"] == code
        assert f"{web.urls[case]}: HTTP {code}" in _source_row(web, "gone")["error"]
    gone = _source_row(web, "gone")
    assert gone["status"] == "ok" and gone["errors"] == 2 and gone["articles_stored"] == 1


def test_slow_server_and_reset_connection_are_errors_that_do_not_stop_the_crawl(web):
    broken = _source_row(web, "broken")
    assert broken["status"] == "ok" and broken["errors"] == 2
    assert f"{web.urls['slow']}: timed out after 1 s" in broken["error"]
    assert f"{web.urls['reset']}: connection broken before the response was complete" in broken["error"]
    assert len(web.main.hits("/a/slow")) == 3 and len(web.main.hits("/a/reset")) == 3


def test_redirect_loops_end_and_are_reported(web):
    assert f"{web.urls['loop']}: redirect loop" in _source_row(web, "redirects")["error"]
    assert len(web.main.hits("/loop/a")) == 1 and len(web.main.hits("/loop/b")) == 1
    feed_loop = _source_row(web, "feed-loop")
    assert feed_loop["status"] == "failed" and "too many redirects" in feed_loop["error"]
    assert len(web.main.hits("/feed-loop.rss")) == 6  # the request and REDIRECT_MAX_TIMES = 5


def test_redirect_to_another_host_is_stored_under_the_announced_url(web):
    row = _article_row(web, web.urls["moved"])
    assert row is not None and "Mã kiểm tra: moved." in row["text"]
    assert row["canonical_url"] == web.urls["moved-target"]
    assert [hit.host.split(":")[0] for hit in web.main.hits("/a/moved-here")] == ["localhost"]


def test_unreachable_entry_points_fail_their_source_with_a_reason(web):
    assert "host name does not resolve" in _source_row(web, "dns")["error"]
    assert "connection refused" in _source_row(web, "refused")["error"]
    assert "HTTP 500" in _source_row(web, "feed-500")["error"]
    assert len(web.main.hits("/feed-500.rss")) == 3


def test_oversized_bodies_stop_at_download_maxsize(web):
    size = _source_row(web, "size")
    assert size["status"] == "ok" and size["errors"] == 3
    for case in ("oversized", "oversized-chunked"):
        assert f"{web.urls[case]}: body larger than download_maxsize" in size["error"], size["error"]
        assert _article_row(web, web.urls[case]) is None


def test_gzip_bomb_is_refused_without_inflating_it(web):
    assert "decompression bomb" in _source_row(web, "size")["error"]
    assert _article_row(web, web.urls["bomb"]) is None
    assert web.peak_rss_kib < 600 * 1024, "a crawl process inflated the 1 GiB bomb"


def test_recursive_sitemap_index_is_read_a_bounded_number_of_times(web):
    assert len(web.main.hits("/sitemap-loop.xml")) == 1
    assert len(web.main.hits("/sitemap-loop-2.xml")) == 1
    assert _source_row(web, "sitemap-loop")["status"] == "ok"


def test_huge_sitemap_and_feed_are_capped(web):
    huge = _source_row(web, "huge-sitemap")
    assert "/huge.xml.gz: not a sitemap: gzip body inflates to more than" in huge["error"]
    large = [hit for hit in web.main.hits() if hit.path.startswith("/large/")]
    assert 0 < len(large) <= MAX_SITEMAP_URLS
    big = [hit for hit in web.main.hits() if hit.path.startswith("/big/")]
    assert 0 < len(big) <= MAX_FEED_ITEMS


def test_robots_crawl_delay_is_honoured(web):
    hits = [hit for hit in web.polite.hits() if hit.path != "/robots.txt"]
    assert [h.path for h in hits].count("/feed.rss") == 1 and len(hits) == 3
    gaps = [later.at - earlier.at for earlier, later in zip(hits, hits[1:])]
    assert min(gaps) >= CRAWL_DELAY - 0.05, gaps
    assert _article_row(web, web.urls["polite-1"]) and _article_row(web, web.urls["polite-2"])


def test_robots_disallow_is_honoured(web):
    assert web.strict.hits("/private/secret") == []
    assert _article_row(web, web.urls["public"]) is not None
    strict = _source_row(web, "strict")
    assert strict["status"] == "ok" and strict["errors"] == 0


def test_unreachable_robots_txt_means_nothing_is_fetched(web):
    assert [hit.path for hit in web.robots_down.hits()] == ["/robots.txt"] * 3
    row = _source_row(web, "robots-down")
    assert row["status"] == "failed" and "robots.txt unreachable (HTTP 503); nothing is fetched" in row["error"]


def test_missing_robots_txt_means_no_rules(web):
    assert _article_row(web, web.urls["robots-missing-article"]) is not None


def test_next_run_revisits_only_what_could_not_be_settled(web):
    """Validators are saved only for entry points whose articles all settled; the rest is read again."""
    before = {site.host: len(site.hits()) for site in (web.main, web.polite)}
    second = run_newsmon("crawl", config=web.config, timeout=120)
    assert second.returncode == 0, second.stderr
    new = [hit for hit in web.main.hits()[before["127.0.0.1"]:]]
    fetched = {hit.path for hit in new}
    # settled: the feed is revalidated (304) and nothing it lists is fetched again
    assert "/good/1" not in fetched and "/a/missing" not in fetched and "/a/moved" not in fetched
    assert all(hit.headers.get("If-None-Match") for hit in new if hit.path in ("/good.rss", "/gone.rss"))
    # not settled: the feed is read again and the failed article retried
    assert "/a/503-long" in fetched and "/a/slow" in fetched
    assert not any(hit.headers.get("If-None-Match") for hit in new if hit.path == "/flaky.rss")
    runs = _rows(web.db_path, "SELECT status, articles_stored FROM runs ORDER BY id")
    assert len(runs) == 2 and runs[1]["articles_stored"] == 0


# --- SSRF: private networks are refused unless allowed ------------------------------------------


@pytest.mark.parametrize("address", ["10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "127.0.0.1",
                                     "127.8.9.10", "169.254.169.254", "0.0.0.0", "100.64.0.1", "::1", "fc00::1",
                                     "fd00:ec2::254", "fe80::1%eth0", "::ffff:10.0.0.1", "64:ff9b::a00:1",
                                     "2002:a00:1::1", "::a00:1", "224.0.0.1", "ff02::1"])
def test_non_public_addresses_are_classified_as_such(address):
    from crawler.network_guard import is_public_address

    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2001:4860:4860::8888",
                                     "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses_are_allowed(address):
    from crawler.network_guard import is_public_address

    assert is_public_address(address)


@pytest.mark.parametrize(("url", "address"), [
    ("http://10.1.2.3/feed.rss", "10.1.2.3"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ("http://[::1]:8080/sitemap.xml", "::1"),
    ("http://[fd12::1]/", "fd12::1"),
    ("http://192.168.0.10/a", "192.168.0.10"),
])
def test_urls_on_private_literals_are_refused_without_contacting_them(url, address):
    """The guard's check, run on every request (redirects included): IP literals need no DNS and no traffic."""
    from crawler.network_guard import refused_address

    assert refused_address(url) == address


def test_the_resolver_refuses_a_host_name_that_resolves_to_a_private_address():
    from crawler.network_guard import NonPublicAddressError, PublicOnlyResolver

    assert PublicOnlyResolver._check("93.184.216.34", "example.com") == "93.184.216.34"
    with pytest.raises(NonPublicAddressError, match="rebinding.example resolves to non-public address 10.0.0.7"):
        PublicOnlyResolver._check("10.0.0.7", "rebinding.example")


def test_feeds_and_sitemaps_on_private_addresses_are_refused_unless_allowed(tmp_path):
    with FaultSite("127.0.0.1") as site:
        article = _article(site, "/a/1", 0, "ssrf")
        feed = _feed(site, "/feed.rss", [article])
        sources = [{"name": "loopback-ip", "feeds": [feed]},
                   {"name": "loopback-name", "sitemaps": [site.url("/sitemap.xml", host="localhost")]}]
        db_path = tmp_path / "news.db"
        config = tmp_path / "newsmon.toml"
        config.write_text(newsmon_toml(db_path, sources, allow_private_networks=False), encoding="utf-8")
        result = run_newsmon("crawl", config=config, timeout=60)
        assert result.returncode == 1, result.stderr  # every source failed
        assert site.hits() == [], "a private address was contacted"
        rows = {r["source"]: r for r in _rows(db_path, "SELECT * FROM run_sources")}
        assert rows["loopback-ip"]["status"] == "failed"
        assert f"refused {feed}: its host resolves to non-public address 127.0.0.1 (allow_private_networks = false)" \
            in rows["loopback-ip"]["error"]
        assert "non-public address 127.0.0.1" in rows["loopback-name"]["error"]
        assert "loopback-ip    FAILED  " + feed in result.stderr


# --- Retry-After values ---------------------------------------------------------------------------


def test_retry_after_is_read_as_seconds_or_an_http_date_and_garbage_is_ignored():
    from datetime import datetime, timezone

    from crawler.retry_after import parse_retry_after

    now = datetime(2026, 3, 7, 8, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after(b" 120 ") == 120.0
    assert parse_retry_after("Sat, 07 Mar 2026 08:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Sat, 07 Mar 2026 07:00:00 GMT", now=now) == 0.0  # in the past: retry now
    for garbage in (None, "", "soon", "-5", "1.5e9"):
        assert parse_retry_after(garbage, now=now) is None, garbage
