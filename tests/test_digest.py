"""``newsmon digest``: one entry per story, the watermark, atomic output, five safe formats."""

from __future__ import annotations

import csv
import io
import json
import os
import xml.etree.ElementTree as ET
from datetime import timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from scheduler import cli
from store.articles import save_article
from store.db import connect
from store.digest import build_digest, mark
from store_factory import NOW, add, add_reprint, record

EVIL_TITLE = 'Nga <script>alert("x")</script> & "Việt" \x07\x1b[31m\x00end'
CONTROL_CHARS = {chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"} | {"\x7f"}


def digest(db_path, *args):
    return CliRunner().invoke(cli, ["--db", str(db_path), "digest", *args])


def watermark(db_path, name="digest"):
    db = connect(db_path)
    try:
        row = db.execute("SELECT watermark FROM exports WHERE name = ?", [name]).fetchone()
        return row and row[0]
    finally:
        db.conn.close()


@pytest.fixture
def two_stories(tmp_path):
    """A wire story with two reprints (yesterday) and a story of its own (today)."""
    path = tmp_path / "news.db"
    db = connect(path)
    wire = add(db, source="ttxvn", title="Việt Nam – Nga ký kế hoạch hợp tác quốc phòng",
               text="HÀ NỘI — Hai bộ trưởng quốc phòng đã ký kế hoạch hợp tác cho giai đoạn mới.\n"
                    "Đoạn thứ hai của bài viết gốc kể thêm chi tiết.", hours_ago=26)
    add_reprint(db, wire, source="vietnamplus", title="Việt Nam và Nga ký kế hoạch hợp tác quốc phòng",
                text="Hai bộ trưởng quốc phòng đã ký kế hoạch hợp tác.", hours_ago=25)
    add_reprint(db, wire, source="baochinhphu", title="Ký kế hoạch hợp tác quốc phòng Việt – Nga",
                text="Hai bộ trưởng đã ký.", hours_ago=24)
    own = add(db, source="tass", lang="ru", title="Россия поставит Вьетнаму учебные самолёты",
              text="Москва. Россия поставит Вьетнаму учебно-боевые самолёты Як-130.", hours_ago=2,
              terms={"military": ["самолёты"], "vietnam": ["Вьетнам"]})
    db.conn.close()
    return path, wire, own


# --- contents ---------------------------------------------------------------------


def test_one_entry_per_story_with_reprints_as_also_reported_by(two_stories):
    path, wire, own = two_stories
    result = digest(path, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema"] == "newsmon.digest/1" and data["count"] == 2
    stories = {s["article_id"]: s for s in data["stories"]}
    assert set(stories) == {wire, own}
    wire_story = stories[wire]
    assert wire_story["source"] == "ttxvn"
    assert wire_story["title"] == "Việt Nam – Nga ký kế hoạch hợp tác quốc phòng"
    assert wire_story["lead"].startswith("HÀ NỘI — Hai bộ trưởng quốc phòng")
    assert [m["source"] for m in wire_story["also_reported_by"]] == ["vietnamplus", "baochinhphu"]
    assert all(m["url"].startswith("https://") for m in wire_story["also_reported_by"])
    assert wire_story["terms"] == {"military": ["quốc phòng"], "russia": ["Nga"]}
    assert stories[own]["also_reported_by"] == []
    assert stories[own]["terms"] == {"military": ["самолёты"], "vietnam": ["Вьетнам"]}


def test_markdown_groups_by_day_newest_first(two_stories):
    path, _, _ = two_stories
    text = digest(path).stdout
    story_days = {(NOW - timedelta(hours=hours)).date().isoformat() for hours in (26, 2)}
    days = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert days == sorted(story_days, reverse=True)
    assert text.index("Россия поставит Вьетнаму") < text.index("Việt Nam – Nga ký kế hoạch")
    assert "Also reported by: [vietnamplus](<https://vietnamplus.example/" in text
    assert "Topic terms: quốc phòng, Nga" in text


def test_offtopic_pages_never_appear(tmp_path):
    path = tmp_path / "news.db"
    db = connect(path)
    save_article(db, record(title="Trường mầm non Nga Tiến khai giảng", text="Học sinh đến trường.", relevant=False))
    add(db, title="Hợp tác quốc phòng Việt – Nga", text="Nội dung.")
    db.conn.close()
    data = json.loads(digest(path, "--format", "json").stdout)
    assert [s["title"] for s in data["stories"]] == ["Hợp tác quốc phòng Việt – Nga"]


def test_article_without_cluster_is_its_own_story(tmp_path):
    path = tmp_path / "news.db"
    db = connect(path)
    first = add(db, title="Tin một", text="Một.")
    second = add(db, title="Tin hai", text="Hai.")
    db.execute("UPDATE articles SET cluster_id = NULL")
    db.execute("DELETE FROM clusters")
    db.conn.close()
    data = json.loads(digest(path, "--format", "json").stdout)
    assert sorted(s["article_id"] for s in data["stories"]) == [first, second]
    assert all(s["cluster_id"] is None for s in data["stories"])


def test_since_selects_by_date(two_stories):
    path, wire, own = two_stories
    data = json.loads(digest(path, "--since", "12h", "--format", "json").stdout)
    assert [s["article_id"] for s in data["stories"]] == [own]
    data = json.loads(digest(path, "--since", "3d", "--format", "json").stdout)
    assert sorted(s["article_id"] for s in data["stories"]) == sorted([wire, own])


# --- watermark ------------------------------------------------------------------------


def test_since_last_shows_only_stories_new_since_the_marked_digest(two_stories, tmp_path):
    path, wire, own = two_stories
    first = digest(path, "--since-last", "--mark", "--format", "json", "-o", str(tmp_path / "d1.json"))
    assert first.exit_code == 0, first.output
    assert json.loads((tmp_path / "d1.json").read_text())["count"] == 2

    db = connect(path)  # a crawl between the two digests: a new story and a late reprint of an old one
    new = add(db, source="qdnd", title="Tàu hộ vệ tên lửa Gepard thăm cảng Vladivostok", text="Hải quân.")
    add_reprint(db, wire, source="nld", title="Việt – Nga ký kế hoạch", text="Ký kết.")
    db.conn.close()

    second = digest(path, "--since-last", "--mark", "--format", "json", "-o", str(tmp_path / "d2.json"))
    assert second.exit_code == 0, second.output
    data = json.loads((tmp_path / "d2.json").read_text())
    assert [s["article_id"] for s in data["stories"]] == [new]

    third = digest(path, "--since-last")
    assert third.exit_code == 0
    assert "No new stories since the last digest" in third.stdout
    assert "no new stories" in third.stderr


def test_without_mark_the_watermark_stays(two_stories):
    path, _, _ = two_stories
    assert digest(path, "--format", "json").exit_code == 0
    assert watermark(path) is None
    assert json.loads(digest(path, "--format", "json").stdout)["count"] == 2


def test_articles_written_during_a_digest_land_in_the_next_one(two_stories):
    path, _, _ = two_stories
    db = connect(path)
    taken = build_digest(db)                     # the digest reads...
    late = add(db, title="Bài đến muộn", text="Được ghi trong lúc digest đang chạy.")  # ...a crawl commits...
    mark(db, taken, NOW.isoformat())             # ...then the digest is marked
    following = build_digest(db)
    db.conn.close()
    assert late not in [s.article_id for s in taken.stories]
    assert [s.article_id for s in following.stories] == [late]


def test_failing_output_path_leaves_the_watermark_unchanged(two_stories, tmp_path):
    path, _, _ = two_stories
    assert digest(path, "--mark", "-o", str(tmp_path / "ok.md")).exit_code == 0
    before = watermark(path)
    db = connect(path)
    add(db, title="Tin mới", text="Nội dung mới.")
    db.conn.close()

    missing_dir = digest(path, "--mark", "-o", str(tmp_path / "no" / "such" / "dir" / "d.md"))
    assert missing_dir.exit_code == 2
    assert "cannot write" in missing_dir.output and "watermark did not move" in missing_dir.output

    directory = tmp_path / "a-directory"
    directory.mkdir()
    into_directory = digest(path, "--mark", "-o", str(directory))
    assert into_directory.exit_code == 2
    assert os.listdir(directory) == []  # the temporary file was cleaned up

    assert watermark(path) == before
    assert "Tin mới" in digest(path, "--since-last").stdout


def test_output_replaces_the_file_whole(two_stories, tmp_path):
    path, _, _ = two_stories
    target = tmp_path / "digest.html"
    target.write_text("old contents")
    assert digest(path, "--format", "html", "-o", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".digest.html")] == []


@pytest.mark.parametrize("args, message", [
    (["--since-last", "--since", "1d"], "either --since-last or --since"),
    (["--since", "1d", "--mark"], "--mark works with --since-last only"),
    (["--since", "soon"], "neither a duration"),
    (["--format", "pdf"], "'pdf' is not one of"),
])
def test_bad_options_are_usage_errors(two_stories, args, message):
    path, _, _ = two_stories
    result = digest(path, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert watermark(path) is None


def test_help_documents_the_json_schema():
    result = CliRunner().invoke(cli, ["digest", "--help"])
    assert result.exit_code == 0
    assert "newsmon.digest/1" in result.output and "also_reported_by" in result.output


# --- formats and escaping ---------------------------------------------------------------


@pytest.fixture
def hostile(tmp_path):
    """A story whose title carries a script and control characters, whose link is javascript:."""
    path = tmp_path / "hostile.db"
    db = connect(path)
    bad = add(db, url="javascript:alert(document.cookie)", source="evil\x01", title=EVIL_TITLE,
              text="=HYPERLINK(\"http://x\")\nLead with <b>tags</b> and \x0b vertical tab.",
              terms={"military<i>": ["<img src=x onerror=alert(1)>"]})
    add_reprint(db, bad, url="https://ok.example/a?x=1&y=<2>", source="okay", title="Copy", text="Copy.")
    add_reprint(db, bad, url="data:text/html,<script>alert(1)</script>", source="datauri", title="Copy 2",
                text="Copy.")
    db.conn.close()
    return path


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.hrefs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [value for name, value in attrs if name in ("href", "src")]

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_safe(hostile):
    page = digest(hostile, "--format", "html").stdout
    parsed = _Collector()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "b" not in parsed.tags
    assert all(href.startswith("https://") for href in parsed.hrefs), parsed.hrefs
    assert "https://ok.example/a?x=1&y=%3C2%3E" in parsed.hrefs
    text = "".join(parsed.text)
    assert '<script>alert("x")</script>' in text  # shown as text
    assert "<img src=x onerror=alert(1)>" in text
    assert not CONTROL_CHARS & set(page)


def test_rss_is_valid_rss2(hostile, two_stories):
    for path in (hostile, two_stories[0]):
        feed = digest(path, "--format", "rss").stdout_bytes
        assert not CONTROL_CHARS & set(feed.decode("utf-8"))
        root = ET.fromstring(feed)
        assert root.tag == "rss" and root.get("version") == "2.0"
        channel = root.find("channel")
        for required in ("title", "link", "description"):
            assert channel.findtext(required), required
        items = channel.findall("item")
        assert items
        for item in items:
            assert item.findtext("title") or item.findtext("description")
            assert item.findtext("guid")
            assert parsedate_to_datetime(item.findtext("pubDate")).tzinfo is not None
            link = item.findtext("link")
            assert link is None or link.startswith(("http://", "https://"))
    titles = [i.findtext("title") for i in ET.fromstring(digest(hostile, "--format", "rss").stdout_bytes).iter("item")]
    assert titles == ['Nga <script>alert("x")</script> & "Việt" [31mend']


def test_json_is_valid_and_clean(hostile):
    data = json.loads(digest(hostile, "--format", "json").stdout)
    story = data["stories"][0]
    assert story["url"] is None
    assert story["title"] == 'Nga <script>alert("x")</script> & "Việt" [31mend'
    assert [m["url"] for m in story["also_reported_by"]] == ["https://ok.example/a?x=1&y=%3C2%3E", None]
    assert not CONTROL_CHARS & set(json.dumps(data, ensure_ascii=False))


def test_markdown_escapes_html_and_link_syntax(hostile):
    text = digest(hostile).stdout
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "javascript:" not in text and "data:text" not in text
    assert not CONTROL_CHARS & set(text)


def test_csv_has_bom_and_neutralises_formulas(hostile, two_stories):
    raw = digest(two_stories[0], "--format", "csv").stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 2
    wire = next(r for r in rows if r["source"] == "ttxvn")
    assert "vietnamplus https://vietnamplus.example/" in wire["also_reported_by"]
    rows = list(csv.DictReader(io.StringIO(digest(hostile, "--format", "csv").stdout_bytes.decode("utf-8-sig"))))
    assert rows[0]["lead"].startswith("'=HYPERLINK")
    assert rows[0]["url"] == ""


@pytest.mark.parametrize("fmt", ["md", "html", "json", "rss", "csv"])
def test_empty_digest_says_so(tmp_path, fmt):
    path = tmp_path / "news.db"
    connect(path).conn.close()
    result = digest(path, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "no new stories" in result.stderr
    body = result.stdout_bytes.decode("utf-8-sig")
    if fmt == "json":
        assert json.loads(body)["count"] == 0
    elif fmt == "csv":
        assert body.splitlines() == [body.splitlines()[0]] and body.startswith("day,")
    elif fmt == "rss":
        assert ET.fromstring(body.encode()).find("channel").findtext("description").startswith("No new stories")
    else:
        assert "No new stories" in body
