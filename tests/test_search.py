"""``newsmon search``: folded full-text search, safe queries, one line per story; and the Datasette metadata."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler import cli
from store.db import connect
from store.fts import rebuild_index
from store.queries import search_stories
from store_factory import add, add_reprint

ROOT = Path(__file__).resolve().parent.parent

VI_DEFENCE = (
    "Hợp tác quốc phòng là trụ cột trong quan hệ Việt-Nga",
    "Bộ trưởng khẳng định hợp tác chiến lược toàn diện với LB Nga là chủ trương nhất quán của Đảng và Nhà nước.",
)
VI_SPLIT = (
    "Phòng khám mới ở Hà Nội",
    "Bệnh viện quốc tế mở phòng khám; lãnh đạo quốc gia dự lễ khai trương.",
)
RU_STORY = (
    "Вьетнам и Россия обсудили военно-техническое сотрудничество",
    "Министр обороны России встретился с делегацией Вьетнама. Стороны договорились о поставках оружия.",
)
EN_STORY = (
    "Vietnam buys C++ toolchain for navy simulators",
    "The navy signed a contract; a:b ratio and NEAR(1) terms appear in the spec, see section (3).",
)


@pytest.fixture
def store(tmp_path):
    """A store with Vietnamese, Russian and English articles; returns (db path, {name: article id})."""
    path = tmp_path / "news.db"
    db = connect(path)
    ids = {
        "vi_defence": add(db, title=VI_DEFENCE[0], text=VI_DEFENCE[1], source="qdnd"),
        "vi_split": add(db, title=VI_SPLIT[0], text=VI_SPLIT[1], source="vnexpress"),
        "ru": add(db, title=RU_STORY[0], text=RU_STORY[1], source="tass", lang="ru", hours_ago=30,
                  terms={"military": ["военно-техническое"], "vietnam": ["Вьетнам"]}),
        "en": add(db, title=EN_STORY[0], text=EN_STORY[1], source="reuters", lang="en", hours_ago=200),
    }
    db.conn.close()
    return path, ids


def run(db_path, *args):
    return CliRunner().invoke(cli, ["--db", str(db_path), "search", *args])


def found(db_path, query, **filters) -> list[int]:
    db = connect(db_path, readonly=True)
    try:
        return [hit.article_id for hit in search_stories(db, query, **filters)]
    finally:
        db.conn.close()


# --- folding, phrases, inflection ------------------------------------------------


@pytest.mark.parametrize("query", ["quoc phong", "quốc phòng", "QUỐC PHÒNG", "Quoc Phong"])
def test_vietnamese_matches_with_or_without_accents(store, query):
    path, ids = store
    assert ids["vi_defence"] in found(path, query)


@pytest.mark.parametrize("query", ["Dang", "dang", "Đảng", "đảng"])
def test_d_with_stroke_folds_to_d(store, query):
    path, ids = store
    assert found(path, query) == [ids["vi_defence"]]


def test_quoted_phrase_needs_the_words_together(store):
    path, ids = store
    # Both articles contain "quốc" and "phòng"; only one has them side by side.
    assert set(found(path, "quoc phong")) == {ids["vi_defence"], ids["vi_split"]}
    assert found(path, '"quoc phong"') == [ids["vi_defence"]]


@pytest.mark.parametrize("query", ["россия", "России", "Россией", "вьетнам", "оборона", '"министр обороны"'])
def test_russian_words_match_inflected_forms(store, query):
    path, ids = store
    assert found(path, query) == [ids["ru"]]


def test_excluded_word_and_or(store):
    path, ids = store
    assert found(path, "quoc -khám") == [ids["vi_defence"]]
    assert set(found(path, "navy OR россия")) == {ids["en"], ids["ru"]}


def test_title_match_ranks_above_text_match(tmp_path):
    path = tmp_path / "news.db"
    db = connect(path)
    in_text = add(db, title="Tin tổng hợp buổi sáng", text="Cuối bản tin có nhắc tới tàu ngầm Kilo. " * 3)
    in_title = add(db, title="Tàu ngầm Kilo về cảng", text="Hải quân tiếp nhận thêm một chiếc. " * 3)
    db.conn.close()
    assert found(path, "tau ngam kilo") == [in_title, in_text]


def test_updated_article_is_reindexed(tmp_path):
    path = tmp_path / "news.db"
    db = connect(path)
    url = "https://qdnd.example/a.html"
    article_id = add(db, url=url, title="Bản tin", text="Nội dung về tàu ngầm.")
    assert add(db, url=url, title="Bản tin", text="Nội dung về máy bay Su-30.") == article_id
    db.conn.close()
    assert found(path, "tau ngam") == []
    assert found(path, "Su-30") == [article_id]


def test_index_follows_deletes_and_passes_integrity_check(tmp_path):
    path = tmp_path / "news.db"
    db = connect(path)
    kept = add(db, title="Đảng ủy Quân sự", text="Tàu ngầm.")
    gone = add(db, title="Đảng và tàu ngầm", text="Sẽ bị xóa.")
    db.execute("UPDATE articles SET title = 'Đổi tên: Đảng' WHERE id = ?", [kept])
    db.execute("DELETE FROM clusters WHERE canonical_id = ?", [gone])
    db.execute("DELETE FROM raw_pages")
    db.execute("DELETE FROM articles WHERE id = ?", [gone])
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")  # raises if out of step
    rebuild_index(db)
    db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
    db.conn.close()
    assert found(path, "dang") == [kept]
    assert found(path, "doi ten") == [kept]


def test_yo_folds_to_ye(tmp_path):
    path = tmp_path / "news.db"
    db = connect(path)
    article_id = add(db, title="Её самолёты", text="Текст.", lang="ru")
    db.conn.close()
    for query in ("самолеты", "самолёты", "ее", "её"):
        assert found(path, query) == [article_id], query


def test_migration_indexes_articles_stored_before_it(tmp_path):
    from store.db import MIGRATIONS, _split_statements

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in _split_statements(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        """INSERT INTO articles (url, source, title, fetched, text, text_sha, extractor_version)
           VALUES ('https://qdnd.example/old', 'qdnd', 'Đảng ủy Quân sự Trung ương', '2024-05-01T00:00:00+00:00',
                   'Hội nghị quốc phòng.', 'x', 'old')"""
    )
    conn.close()
    connect(path).conn.close()  # migrates
    assert found(path, "dang uy") == [1]
    assert found(path, "quoc phong") == [1]


# --- any text is safe ------------------------------------------------------------------

NASTY = ["C++", "AND", "OR", "NOT", '"', 'a"b', "a:b", "title:Nga", "-", "--x", "*", "**", "NEAR(", "NEAR(a b)",
         ")", "(", "^", "{a b}", "'", "\\", "a OR", "OR b", "-nga", "\x00", "日本", "😀", "  ", "+", "a + b"]


@pytest.mark.parametrize("query", NASTY)
def test_special_characters_never_raise(store, query):
    path, _ = store
    result = run(path, "--", query)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in (0, 2), result.output
    if result.exit_code == 2:
        assert "has no word to search for" in result.output


def test_special_characters_search_the_words_they_contain(store):
    path, ids = store
    assert found(path, "C++") == [ids["en"]]
    assert found(path, "a:b") == [ids["en"]]
    assert found(path, "NEAR(") == [ids["en"]]


def test_random_junk_never_breaks_the_query(store):
    path, _ = store
    alphabet = list('"*-+:()^{}[]~\'\\,.;!?@#$%&|<>=_ ') + ["AND", "OR", "NOT", "NEAR", "a", "Đ", "ы", "é"]
    rng = random.Random(7)
    db = connect(path, readonly=True)
    try:
        for _ in range(400):
            query = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
            stories = search_stories(db, query)  # an FTS syntax error would raise sqlite3.OperationalError
            assert isinstance(stories, list), query
    finally:
        db.conn.close()


# --- the command ------------------------------------------------------------------------


def test_one_line_per_story_with_other_outlets(tmp_path):
    path = tmp_path / "news.db"
    db = connect(path)
    original = add(db, title=VI_DEFENCE[0], text=VI_DEFENCE[1], source="ttxvn")
    add_reprint(db, original, title=VI_DEFENCE[0], text=VI_DEFENCE[1], source="vietnamplus")
    add_reprint(db, original, title=VI_DEFENCE[0] + " (ảnh)", text=VI_DEFENCE[1], source="baochinhphu")
    db.conn.close()
    result = run(path, "quoc phong", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert len(hits) == 1
    assert hits[0]["article_id"] == original and hits[0]["source"] == "ttxvn"
    assert hits[0]["other_outlet_count"] == 2
    assert sorted(hits[0]["other_outlets"]) == ["baochinhphu", "vietnamplus"]


def test_story_without_cluster_is_its_own_line(tmp_path):
    path = tmp_path / "news.db"
    db = connect(path)
    article_id = add(db, title=VI_DEFENCE[0], text=VI_DEFENCE[1])
    db.execute("UPDATE articles SET cluster_id = NULL WHERE id = ?", [article_id])
    db.conn.close()
    hits = json.loads(run(path, "quoc phong", "--json").output)
    assert [(h["article_id"], h["other_outlet_count"]) for h in hits] == [(article_id, 0)]


def test_table_shows_title_source_and_why_kept(store):
    path, _ = store
    result = run(path, "россия")
    assert result.exit_code == 0, result.output
    for text in ("Вьетнам и Россия", "tass", "военно-техническое", "https://tass.example/"):
        assert text in result.output


def test_brackets_in_titles_are_not_rich_markup(tmp_path):
    path = tmp_path / "news.db"
    db = connect(path)
    add(db, title="[Video] Tàu [bold]ngầm[/bold] Kilo", text="Hải quân.")
    db.conn.close()
    result = run(path, "kilo")
    assert "[Video]" in result.output and "[bold]ngầm[/bold]" in result.output


def test_filters_by_language_source_and_date(store):
    path, ids = store
    assert found(path, "vietnam OR вьетнам", lang="en") == [ids["en"]]
    assert found(path, "vietnam OR вьетнам", source="tass") == [ids["ru"]]
    hits = json.loads(run(path, "vietnam OR вьетнам", "--since", "7d", "--json").output)
    assert [h["article_id"] for h in hits] == [ids["ru"]]  # the English one is 200 hours old
    hits = json.loads(run(path, "vietnam OR вьетнам", "--lang", "en", "--json").output)
    assert [h["source"] for h in hits] == ["reuters"]


def test_limit(store):
    path, _ = store
    hits = json.loads(run(path, "quoc OR россия OR navy", "--limit", "2", "--json").output)
    assert len(hits) == 2


@pytest.mark.parametrize("args, message", [
    (["x", "--source", "nosuch"], "no stored article comes from 'nosuch'"),
    (["x", "--since", "yesterday"], "neither a duration"),
    (["x", "--lang", "fr"], "'fr' is not one of"),
    (["x", "--limit", "0"], "--limit"),
])
def test_bad_options_are_usage_errors(store, args, message):
    path, _ = store
    result = run(path, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_missing_store_is_a_usage_error(tmp_path):
    result = run(tmp_path / "nothing.db", "quoc")
    assert result.exit_code == 2
    assert "no store at" in result.output
    assert not (tmp_path / "nothing.db").exists()


def test_search_works_while_a_crawl_holds_the_write_lock(store):
    path, ids = store
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE articles SET title = 'x' WHERE id = ?", (ids["vi_defence"],))
    try:
        result = run(path, "quoc phong", "--json")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 0, result.output
    assert ids["vi_defence"] in [h["article_id"] for h in json.loads(result.output)]


def test_search_does_not_import_the_crawl_stack(store):
    path, _ = store
    script = (
        "import sys; from click.testing import CliRunner; from scheduler import cli; "
        f"r = CliRunner().invoke(cli, ['--db', {str(path)!r}, 'search', 'quoc']); "
        "assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in ('scrapy', 'trafilatura', 'datasketch', 'twisted') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- Datasette -----------------------------------------------------------------------------


def test_datasette_accepts_the_metadata_and_its_canned_queries(store, tmp_path):
    datasette_app = pytest.importorskip("datasette.app", reason="datasette is not installed (pip install '.[web]')")
    import yaml

    path, ids = store
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))

    async def browse():
        ds = datasette_app.Datasette([str(path)], metadata=metadata)
        await ds.invoke_startup()
        get = ds.client.get
        return {
            "search": await get("/news/search.json?_shape=array&q=quoc+phong"),
            "search_d": await get("/news/search.json?_shape=array&q=dang"),
            "search_junk": await get('/news/search.json?_shape=array&q=%22+%2A+%5E+%28+NOT+NEAR%28'),
            "latest": await get("/news/latest_stories.json?_shape=array"),
            "by_source": await get("/news/stories_by_source.json?_shape=array&source=tass"),
            "table": await get("/news/articles.json?_search=quoc"),
            "home": await get("/"),
        }

    pages = asyncio.run(browse())
    assert {name: page.status_code for name, page in pages.items()} == {name: 200 for name in pages}
    assert {row["id"] for row in pages["search"].json()} == {ids["vi_defence"], ids["vi_split"]}  # all words
    assert [row["id"] for row in pages["search_d"].json()] == [ids["vi_defence"]]
    assert pages["search_junk"].json() == []
    assert {row["id"] for row in pages["latest"].json()} == set(ids.values())
    assert [row["id"] for row in pages["by_source"].json()] == [ids["ru"]]
    table = pages["table"].json()
    assert {row[0] for row in table["rows"]} == {ids["vi_defence"], ids["vi_split"]}  # the search box
    assert {facet for facet in table["facet_results"]} >= {"source", "lang", "cluster_id"}
    assert "newsmon" in pages["home"].text
