"""``newsmon sources list`` and ``newsmon sources check`` against a small news site on 127.0.0.1.

No test sends traffic anywhere but 127.0.0.1: the one "remote" source uses the
reserved ``.invalid`` top-level domain, which never resolves.
"""

from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from scheduler import cli

NEW_TITLE = "Vietnam and Russia sign a defence cooperation plan"
NEW_BODY_START = "Hanoi, Vietnam's Minister of National Defence and his Russian counterpart signed"
OLD_TITLE = "Naval delegation visits Cam Ranh port"

ARTICLE_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | Local Defence News</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}">
</head><body>
<nav><a href="/">Home</a> <a href="/section">Defence</a> <a href="/about">About us</a></nav>
<main><article>
<h1>{title}</h1>
<p>{body}</p>
<p>The plan covers military training, the exchange of officer delegations and cooperation between the
defence industries of the two countries over the next five years, officials said after the meeting.</p>
<p>Both sides agreed to hold regular consultations on regional security and to expand search and rescue
exercises at sea. The ministers also discussed the maintenance of equipment bought in earlier years.</p>
<p>The next round of talks is planned in Moscow, where working groups will review the progress of each
programme and prepare the documents for the following year.</p>
</article></main>
<aside><h3>Related</h3><a href="/articles/old-story.html">{old_title}</a></aside>
<footer>Local Defence News, a test site</footer>
</body></html>
"""

LISTING_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Defence</title></head><body>
<nav><a href="/">Home</a> <a href="/about">About us</a> <a href="/section?page=2">Next page</a></nav>
<ul>
<li><a href="/articles/new-story.html">{new_title}</a></li>
<li><a href="/articles/old-story.html">{old_title}</a></li>
</ul></body></html>
"""


class NewsSite:
    """A tiny news site: an RSS feed, a news sitemap, a listing page, two articles, robots.txt."""

    def __init__(self):
        self.now = datetime.now(timezone.utc).replace(microsecond=0)
        self.user_agents: list[str] = []
        self.paths: list[str] = []
        self.barrier = threading.Barrier(3, timeout=10)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.barrier.abort()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def pages(self) -> dict[str, tuple[int, str, str]]:
        new_date = self.now - timedelta(days=1)
        old_date = self.now - timedelta(days=60)
        rss = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Local Defence News</title><link>{self.url}/</link>
<item><title>{OLD_TITLE}</title><link>{self.url}/articles/old-story.html</link>
<pubDate>{format_datetime(old_date)}</pubDate></item>
<item><title>{NEW_TITLE}</title><link>{self.url}/articles/new-story.html?utm_source=rss</link>
<pubDate>{format_datetime(new_date)}</pubDate></item>
</channel></rss>"""
        sitemap = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>{self.url}/articles/new-story.html</loc><news:news>
<news:publication><news:name>Local</news:name><news:language>en</news:language></news:publication>
<news:publication_date>{new_date.isoformat()}</news:publication_date><news:title>{NEW_TITLE}</news:title>
</news:news></url>
<url><loc>{self.url}/articles/old-story.html</loc><lastmod>{old_date.isoformat()}</lastmod></url>
</urlset>"""
        article = ARTICLE_HTML.format(title=NEW_TITLE, published=new_date.isoformat(), body=NEW_BODY_START
                                      + " the plan in the capital on Tuesday.", old_title=OLD_TITLE)
        old_article = ARTICLE_HTML.format(title=OLD_TITLE, published=old_date.isoformat(),
                                          body="An old story about a naval visit.", old_title=OLD_TITLE)
        return {
            "/robots.txt": (200, "text/plain", "User-agent: *\nDisallow: /private/\n"),
            "/rss.xml": (200, "application/rss+xml", rss),
            "/private/rss.xml": (200, "application/rss+xml", rss),
            "/news-sitemap.xml": (200, "application/xml", sitemap),
            "/section": (200, "text/html; charset=utf-8",
                         LISTING_HTML.format(new_title=NEW_TITLE, old_title=OLD_TITLE)),
            "/articles/new-story.html": (200, "text/html; charset=utf-8", article),
            "/articles/old-story.html": (200, "text/html; charset=utf-8", old_article),
            "/not-a-feed.rss": (200, "text/html; charset=utf-8", "<html><body><p>Moved.</p></body></html>"),
            "/empty.rss": (200, "application/rss+xml",
                           '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'),
        }

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.user_agents.append(self.headers.get("User-Agent", ""))
                path = self.path.split("?")[0]
                site.paths.append(path)
                if path.startswith("/together/"):  # answers only when three requests wait at once
                    try:
                        site.barrier.wait()
                    except threading.BrokenBarrierError:
                        self._send(503, "text/plain", "nobody else came")
                        return
                    path = "/rss.xml"
                status, content_type, body = site.pages().get(path, (404, "text/plain", "not found"))
                self._send(status, content_type, body)

            def _send(self, status, content_type, body):
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def site():
    with NewsSite() as running:
        yield running


def write_config(tmp_path, site_url: str, *, allow_private: bool = True, extra: str = "") -> str:
    pattern = r"^http://127\.0\.0\.1:\d+/articles/[a-z-]+\.html$"
    text = f"""
[crawl]
user_agent = "newsmon-test/0.1 (+https://example.org/newsmon)"
window = "14d"
delay = "0s"
obey_robots = true
allow_private_networks = {"true" if allow_private else "false"}

[[sources]]
name = "local"
lang = "en"
feeds = ["{site_url}/rss.xml"]
sitemaps = ["{site_url}/news-sitemap.xml"]
listings = ["{site_url}/section"]
article_pattern = '{pattern}'
utc_offset = "+07:00"

[[sources]]
name = "broken"
lang = "vi"
feeds = ["{site_url}/missing.rss", "{site_url}/not-a-feed.rss", "{site_url}/empty.rss"]

[[sources]]
name = "nowhere"
lang = "ru"
feeds = ["http://newsmon-test.invalid/rss"]
wire = true
prefilter = "title"
utc_offset = "+03:00"
{extra}"""
    path = tmp_path / "newsmon.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def newsmon(config: str, *args: str):
    result = CliRunner().invoke(cli, ["--config", config, *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


# --- list ------------------------------------------------------------------------------------


def test_list_shows_every_source_with_its_settings(tmp_path, site):
    result = newsmon(write_config(tmp_path, site.url), "sources", "list")
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()
            if line.split() and line.split()[0] in ("local", "broken", "nowhere")}
    assert rows["local"][1:] == ["en", "none", "1", "1", "1", "+07:00"]
    assert rows["nowhere"][1:] == ["ru", "yes", "title", "1", "0", "0", "+03:00"]
    assert "languages: en 1, ru 1, vi 1" in result.output
    assert site.paths == []  # listing reads only the config


def test_list_json_has_every_url(tmp_path, site):
    result = newsmon(write_config(tmp_path, site.url), "sources", "list", "--json")
    assert result.exit_code == 0
    listed = {s["name"]: s for s in json.loads(result.output)}
    assert list(listed) == ["local", "broken", "nowhere"]
    assert listed["local"]["sitemaps"] == [f"{site.url}/news-sitemap.xml"]
    assert listed["nowhere"]["wire"] is True and listed["nowhere"]["prefilter"] == "title"


# --- check -----------------------------------------------------------------------------------


def test_check_reports_each_entry_point_of_a_working_source(tmp_path, site):
    result = newsmon(write_config(tmp_path, site.url), "sources", "check", "local")
    out = result.output
    assert result.exit_code == 0, out
    assert "local (en)  OK" in out
    assert "HTTP 200 · feed parsed · 2 items, 1 within 14d" in out
    assert "HTTP 200 · sitemap parsed · 2 items, 1 within 14d" in out
    assert "HTTP 200 · listing parsed · 2 items" in out
    assert out.count(f'"{NEW_TITLE}"') >= 3  # the newest item of the feed and the sitemap, and samples
    sample_lines = [line for line in out.splitlines() if "sample:" in line]
    assert len(sample_lines) == 3
    for line in sample_lines:
        assert NEW_TITLE in line and NEW_BODY_START[:60] in line
    assert "1 source(s) checked: 1 ok, 0 with problems, 0 unreachable (3/3 entry points fine)" in out
    assert set(site.user_agents) == {"newsmon-test/0.1 (+https://example.org/newsmon)"}
    assert site.paths.count("/articles/new-story.html") == 1  # one sample fetch serves all three entry points
    assert site.paths.count("/robots.txt") == 1


def test_check_says_an_unresolvable_source_is_unreachable(tmp_path, site):
    result = newsmon(write_config(tmp_path, site.url), "sources", "check", "nowhere")
    assert result.exit_code == 1
    assert "nowhere (ru)  UNREACHABLE" in result.output
    assert "unreachable: name does not resolve" in result.output
    assert "1 source(s) checked: 0 ok, 0 with problems, 1 unreachable" in result.output


def test_check_names_what_is_wrong_with_broken_entry_points(tmp_path, site):
    result = newsmon(write_config(tmp_path, site.url), "sources", "check", "broken", "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    (broken,) = report["sources"]
    assert broken["state"] == "problems"
    missing, html, empty = broken["entries"]
    assert missing["status"] == 404 and missing["error"] == "HTTP 404 Not Found"
    assert not missing["unreachable"]
    assert html["status"] == 200 and html["error"].startswith("not a readable feed:")
    assert empty["parsed"] and empty["items"] == 0 and empty["error"] == "feed lists no items"
    assert report["summary"] == {"sources": 1, "ok": 0, "problems": 1, "unreachable": 0,
                                 "entry_points": 3, "entry_points_ok": 0}


def test_check_all_sources_summarises_and_exits_1(tmp_path, site):
    result = newsmon(write_config(tmp_path, site.url), "sources", "check", "--no-sample")
    assert result.exit_code == 1
    assert "3 source(s) checked: 1 ok, 1 with problems, 1 unreachable (3/7 entry points fine)" in result.output
    assert "sample:" not in result.output
    assert "/articles/" not in "".join(site.paths)  # --no-sample fetches no article


def test_check_json_carries_counts_newest_item_and_sample(tmp_path, site):
    result = newsmon(write_config(tmp_path, site.url), "sources", "check", "local", "--json")
    assert result.exit_code == 0
    (local,) = json.loads(result.output)["sources"]
    feed = local["entries"][0]
    assert (feed["kind"], feed["status"], feed["items"], feed["recent"]) == ("feed", 200, 2, 1)
    assert feed["newest"]["url"] == f"{site.url}/articles/new-story.html"  # utm_source dropped
    assert feed["newest"]["title"] == NEW_TITLE
    assert datetime.fromisoformat(feed["newest"]["published"]) == site.now - timedelta(days=1)
    assert feed["sample"]["title"] == NEW_TITLE
    assert feed["sample"]["text"].startswith(NEW_BODY_START)
    assert len(feed["sample"]["text"]) == 100


def test_check_reports_connection_refused(tmp_path, site):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    extra = f'\n[[sources]]\nname = "closed"\nlang = "en"\nfeeds = ["http://127.0.0.1:{port}/rss"]\n'
    result = newsmon(write_config(tmp_path, site.url, extra=extra), "sources", "check", "closed")
    assert result.exit_code == 1
    assert "unreachable: connection refused" in result.output


def test_check_gives_up_after_the_timeout(tmp_path, site):
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        extra = f'\n[[sources]]\nname = "silent"\nlang = "en"\nfeeds = ["http://127.0.0.1:{port}/rss"]\n'
        result = newsmon(write_config(tmp_path, site.url, extra=extra), "sources", "check", "silent",
                         "--timeout", "1s")
    assert result.exit_code == 1
    assert "unreachable: timed out after 1s" in result.output


def test_check_obeys_robots_txt(tmp_path, site):
    extra = f'\n[[sources]]\nname = "private"\nlang = "en"\nfeeds = ["{site.url}/private/rss.xml"]\n'
    result = newsmon(write_config(tmp_path, site.url, extra=extra), "sources", "check", "private")
    assert result.exit_code == 1
    assert "disallowed by robots.txt" in result.output
    assert "/private/rss.xml" not in site.paths


def test_check_refuses_private_addresses_unless_allowed(tmp_path, site):
    config = write_config(tmp_path, site.url, allow_private=False)
    result = newsmon(config, "sources", "check", "local")
    assert result.exit_code == 1
    assert "non-public address 127.0.0.1" in result.output
    assert site.paths == []


def test_check_runs_sources_concurrently(tmp_path, site):
    # Each of these feeds answers only once all three requests are waiting at the same time.
    extra = "".join(
        f'\n[[sources]]\nname = "together{i}"\nlang = "en"\nfeeds = ["{site.url}/together/{i}.rss"]\n'
        for i in range(3)
    )
    config = write_config(tmp_path, site.url, extra=extra)
    result = newsmon(config, "sources", "check", "together0", "together1", "together2", "--jobs", "3",
                     "--no-sample")
    assert result.exit_code == 0, result.output
    assert "3 source(s) checked: 3 ok" in result.output


def test_check_unknown_name_is_a_usage_error(tmp_path, site):
    result = newsmon(write_config(tmp_path, site.url), "sources", "check", "qdnd")
    assert result.exit_code == 2
    assert "no source named 'qdnd'" in result.output
    assert "known: local, broken, nowhere" in result.output
    assert site.paths == []


def test_check_help_is_a_manual_with_an_example():
    result = CliRunner().invoke(cli, ["sources", "check", "--help"])
    assert result.exit_code == 0
    assert "newsmon sources check qdnd vnexpress --no-sample" in result.output
    assert "Exit status" in result.output
