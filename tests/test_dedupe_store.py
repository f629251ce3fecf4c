"""Clusters in the store: SqliteDeduplicator through save_article, as the crawl files articles."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.config import DedupeConfig
from crawler.items import ArticleRecord, ExtractedArticle
from dedupe import compute_signature
from store.articles import save_article
from store.db import connect
from store.lsh_storage import IndexParamsChanged, SqliteDeduplicator, prune_bands, rebuild_index

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
CONFIG = DedupeConfig()
NOW = datetime.now(timezone.utc).replace(microsecond=0)
WIRE = {"vietnamplus", "baochinhphu"}


def seed(number: str) -> str:
    return next(SEEDS.glob(f"{number}_*.txt")).read_text(encoding="utf-8")


def first_part(text: str, share: float) -> str:
    """The first ``share`` of the text's lines: a reprint that dropped the last paragraphs."""
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[: max(1, int(len(lines) * share))])


@pytest.fixture
def db(tmp_path):
    database = connect(tmp_path / "news.db")
    yield database
    database.conn.close()


def save(db, deduplicator, url: str, text: str, source: str = "vnexpress", published: datetime | None = None,
         config: DedupeConfig = CONFIG) -> ArticleRecord:
    """Store one article the way the crawl does: signature first, then save_article with the deduplicator."""
    record = ArticleRecord(
        url=url, source=source, fetched=NOW, html=b"<html></html>", relevant=True, score=1.0,
        article=ExtractedArticle(title=url, author=None, published=published or NOW - timedelta(days=1),
                                 lang="vi", text=text, extractor_version="test"),
    )
    record.signature = compute_signature(text, config)
    save_article(db, record, dedupe=deduplicator)
    return record


def article(db, record: ArticleRecord) -> dict:
    row = db.execute("SELECT id, cluster_id, duplicate_of, similarity FROM articles WHERE url = ?",
                     (record.url,)).fetchone()
    return dict(zip(("id", "cluster_id", "duplicate_of", "similarity"), row))


def cluster(db, cluster_id: int) -> dict:
    row = db.execute("SELECT canonical_id, size, sources FROM clusters WHERE id = ?", (cluster_id,)).fetchone()
    return dict(zip(("canonical_id", "size", "sources"), row))


def test_exact_duplicates_always_cluster(db):
    deduplicator = SqliteDeduplicator(CONFIG, WIRE)
    text = seed("003")
    records = [save(db, deduplicator, f"https://site{i}.example/a", text + f"\nTheo TTXVN {i}", f"site{i}")
               for i in range(5)]
    rows = [article(db, r) for r in records]
    assert len({row["cluster_id"] for row in rows}) == 1
    assert cluster(db, rows[0]["cluster_id"])["size"] == 5
    assert all(row["similarity"] == 1.0 for row in rows[1:])
    assert records[1].duplicate_of == rows[0]["id"]  # the record tells the crawl it was a duplicate


def test_empty_and_tiny_texts_never_cluster_together(db):
    deduplicator = SqliteDeduplicator(CONFIG, WIRE)
    cookie_wall = "Chúng tôi sử dụng cookie để cải thiện trải nghiệm của bạn. Đồng ý"
    texts = ["", "", "   ", "null", "404 Not Found", "Trang bạn tìm không tồn tại.", cookie_wall, cookie_wall,
             cookie_wall, first_part(seed("002"), 0.05)]
    records = [save(db, deduplicator, f"https://x.example/{i}", text) for i, text in enumerate(texts)]
    rows = [article(db, r) for r in records]
    assert len({row["cluster_id"] for row in rows}) == len(texts)
    assert all(row["duplicate_of"] is None for row in rows)
    # a tiny text contained in a long article does not join it either
    full = save(db, deduplicator, "https://x.example/full", seed("002"))
    assert article(db, full)["cluster_id"] not in {row["cluster_id"] for row in rows}


def test_a_trimmed_reprint_joins_the_original(db):
    deduplicator = SqliteDeduplicator(CONFIG, WIRE)
    original = save(db, deduplicator, "https://baochinhphu.vn/a", seed("002"), "baochinhphu")
    copy = save(db, deduplicator, "https://tuoitre.vn/a", first_part(seed("002"), 0.5), "tuoitre")
    other = save(db, deduplicator, "https://qdnd.vn/b", seed("004"), "qdnd")
    assert article(db, copy)["cluster_id"] == article(db, original)["cluster_id"]
    assert article(db, copy)["duplicate_of"] == article(db, original)["id"]
    assert article(db, copy)["similarity"] >= CONFIG.containment
    assert article(db, other)["cluster_id"] != article(db, original)["cluster_id"]
    assert cluster(db, article(db, original)["cluster_id"])["sources"] == '["baochinhphu", "tuoitre"]'


def test_a_late_wire_original_becomes_canonical(db):
    deduplicator = SqliteDeduplicator(CONFIG, WIRE)
    text = seed("000")
    published = NOW - timedelta(days=2)
    copies = [save(db, deduplicator, f"https://copy{i}.example/a", first_part(text, 0.8), f"copy{i}",
                   published + timedelta(hours=i)) for i in range(3)]
    first_canonical = cluster(db, article(db, copies[0])["cluster_id"])["canonical_id"]
    assert first_canonical == article(db, copies[0])["id"]  # the earliest copy, until the original arrives
    wire = save(db, deduplicator, "https://baochinhphu.vn/original", text, "baochinhphu", published + timedelta(hours=5))
    wire_row = article(db, wire)
    assert cluster(db, wire_row["cluster_id"]) == {
        "canonical_id": wire_row["id"], "size": 4, "sources": '["baochinhphu", "copy0", "copy1", "copy2"]'}
    assert wire_row["duplicate_of"] is None and wire_row["similarity"] is None
    assert all(article(db, c)["duplicate_of"] == wire_row["id"] for c in copies)


def test_an_earlier_original_arriving_late_becomes_canonical(db):
    deduplicator = SqliteDeduplicator(CONFIG, set())
    text = seed("003")
    copy = save(db, deduplicator, "https://copy.example/a", first_part(text, 0.7), "copy", NOW - timedelta(days=1))
    original = save(db, deduplicator, "https://orig.example/a", text, "orig", NOW - timedelta(days=2))
    assert article(db, copy)["duplicate_of"] == article(db, original)["id"]


def test_candidates_outside_the_time_window_are_not_matched(db):
    deduplicator = SqliteDeduplicator(CONFIG, WIRE)
    text = seed("002")
    old = save(db, deduplicator, "https://a.example/old", text, "a", NOW - timedelta(days=45))
    recent = save(db, deduplicator, "https://b.example/new", first_part(text, 0.7), "b", NOW - timedelta(days=5))
    assert article(db, recent)["cluster_id"] != article(db, old)["cluster_id"]
    within = save(db, deduplicator, "https://c.example/new", first_part(text, 0.6), "c", NOW - timedelta(days=20))
    assert article(db, within)["cluster_id"] in (article(db, old)["cluster_id"], article(db, recent)["cluster_id"])


def test_the_index_persists_across_processes(tmp_path):
    path = tmp_path / "news.db"
    first = connect(path)
    original = save(first, SqliteDeduplicator(CONFIG, WIRE), "https://a.example/1", seed("001"), "a")
    cluster_id = article(first, original)["cluster_id"]
    first.conn.close()
    reopened = connect(path)
    try:
        copy = save(reopened, SqliteDeduplicator(CONFIG, WIRE), "https://b.example/1", first_part(seed("001"), 0.8), "b")
        assert article(reopened, copy)["cluster_id"] == cluster_id
    finally:
        reopened.conn.close()


def test_a_resaved_article_moves_to_its_new_story(db):
    deduplicator = SqliteDeduplicator(CONFIG, WIRE)
    first = save(db, deduplicator, "https://a.example/1", seed("002"), "a")
    second = save(db, deduplicator, "https://b.example/1", seed("002"), "b")
    assert article(db, second)["cluster_id"] == article(db, first)["cluster_id"]
    # the page changed (the site fixed a wrong body): the article leaves the old cluster
    second = save(db, deduplicator, "https://b.example/1", seed("004"), "b")
    assert article(db, second)["cluster_id"] != article(db, first)["cluster_id"]
    assert cluster(db, article(db, first)["cluster_id"])["size"] == 1
    assert article(db, first)["duplicate_of"] is None


def test_clusters_split_by_arrival_order_are_joined(db):
    deduplicator = SqliteDeduplicator(CONFIG, WIRE)
    lines = [line for line in seed("002").splitlines() if line.strip()]
    head = save(db, deduplicator, "https://a.example/head", "\n".join(lines[: len(lines) * 6 // 10]), "a")
    tail = save(db, deduplicator, "https://b.example/tail", "\n".join(lines[len(lines) * 3 // 10 :]), "b")
    assert article(db, head)["cluster_id"] != article(db, tail)["cluster_id"]  # too little in common to verify
    # the full text verifies against both, and they share a third of the story: one story after all
    full = save(db, deduplicator, "https://c.example/full", "\n".join(lines), "c")
    assert article(db, head)["cluster_id"] == article(db, tail)["cluster_id"] == article(db, full)["cluster_id"]
    assert cluster(db, article(db, full)["cluster_id"])["size"] == 3
    assert db.execute("SELECT count(*) FROM clusters").fetchone()[0] == 1


def test_a_roundup_of_two_stories_does_not_merge_them(db):
    deduplicator = SqliteDeduplicator(CONFIG, WIRE)
    first = save(db, deduplicator, "https://a.example/giang", first_part(seed("002"), 0.4), "a")
    second = save(db, deduplicator, "https://b.example/patrushev", first_part(seed("004"), 0.6), "b")
    roundup = save(db, deduplicator, "https://c.example/week",
                   first_part(seed("002"), 0.4) + "\n" + first_part(seed("004"), 0.6), "c")
    assert article(db, first)["cluster_id"] != article(db, second)["cluster_id"]
    assert article(db, roundup)["cluster_id"] in (article(db, first)["cluster_id"], article(db, second)["cluster_id"])


def test_changed_parameters_need_a_rebuild(db):
    save(db, SqliteDeduplicator(CONFIG, WIRE), "https://a.example/1", seed("001"), "a")
    changed = dataclasses.replace(CONFIG, shingle_size=3)
    with pytest.raises(IndexParamsChanged, match="newsmon dedupe --rebuild"):
        save(db, SqliteDeduplicator(changed, WIRE), "https://b.example/1", seed("001"), "b", config=changed)
    assert db.execute("SELECT count(*) FROM articles WHERE url = 'https://b.example/1'").fetchone()[0] == 0
    for _ in rebuild_index(db, changed, WIRE):
        pass
    copy = save(db, SqliteDeduplicator(changed, WIRE), "https://b.example/1", seed("001"), "b", config=changed)
    assert article(db, copy)["duplicate_of"] is not None


def test_rebuild_recreates_the_same_clusters(db):
    deduplicator = SqliteDeduplicator(CONFIG, WIRE)
    records = [save(db, deduplicator, f"https://s{n}.example/{i}", first_part(seed(n), share), f"s{n}")
               for n in ("000", "002", "004") for i, share in enumerate((1.0, 0.8, 0.6))]

    def partition():
        groups: dict[int, set[str]] = {}
        for url, cluster_id in db.execute("SELECT url, cluster_id FROM articles"):
            groups.setdefault(cluster_id, set()).add(url)
        return sorted(sorted(g) for g in groups.values())

    before = partition()
    assert len(before) == 3
    done = sum(rebuild_index(db, CONFIG, WIRE, batch_size=4))
    assert done == len(records)
    assert partition() == before
    assert db.execute("SELECT count(*) FROM signatures").fetchone()[0] == len(records)


def test_pruned_articles_are_no_longer_candidates(db):
    deduplicator = SqliteDeduplicator(CONFIG, WIRE)
    old = save(db, deduplicator, "https://a.example/old", seed("002"), "a", NOW - timedelta(days=100))
    recent = save(db, deduplicator, "https://a.example/new", seed("004"), "a", NOW - timedelta(days=1))
    bands = "SELECT count(*) FROM lsh_bands WHERE article_id = ?"
    assert db.execute(bands, (article(db, old)["id"],)).fetchone()[0] == CONFIG.bands
    deleted = prune_bands(db, CONFIG, now=NOW + timedelta(days=90))
    assert deleted == CONFIG.bands
    assert db.execute(bands, (article(db, recent)["id"],)).fetchone()[0] == CONFIG.bands
    assert prune_bands(db, CONFIG, now=NOW + timedelta(days=90)) == 0  # nothing new aged out
    copy = save(db, deduplicator, "https://b.example/copy", first_part(seed("002"), 0.7), "b",
                NOW - timedelta(days=100))
    assert article(db, copy)["cluster_id"] != article(db, old)["cluster_id"]
