"""``newsmon export``: canonical articles (or every copy) as JSON Lines or CSV, streamed."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

import pytest
from click.testing import CliRunner

from scheduler import cli
from store.articles import transaction
from store.db import connect
from store_factory import NOW, add, add_reprint


def export(db_path, *args):
    return CliRunner().invoke(cli, ["--db", str(db_path), "export", *args])


@pytest.fixture
def store(tmp_path):
    """An original with one reprint, and an old story; returns (path, original, reprint, old)."""
    path = tmp_path / "news.db"
    db = connect(path)
    original = add(db, source="ttxvn", title="Hợp tác quốc phòng Việt – Nga", text="Nội dung gốc.\nĐoạn hai.")
    reprint = add_reprint(db, original, source="vietnamplus", title="Hợp tác quốc phòng", text="Bản đăng lại.")
    old = add(db, source="tass", lang="ru", title="Россия и Вьетнам", text="-1 самолёт", hours_ago=24 * 30,
              terms={"military": ["самолёт"]})
    db.conn.close()
    return path, original, reprint, old


def test_jsonl_exports_canonical_articles_by_default(store):
    path, original, reprint, old = store
    result = export(path)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [original, old]
    first = rows[0]
    assert first["text"] == "Nội dung gốc.\nĐoạn hai."
    assert first["terms"] == {"military": ["quốc phòng"], "russia": ["Nga"]}
    assert first["duplicate_of"] is None and first["source"] == "ttxvn"
    assert "export: 2 articles" in result.stderr


def test_all_copies_adds_reprints(store):
    path, original, reprint, old = store
    rows = [json.loads(line) for line in export(path, "--all-copies").stdout.splitlines()]
    assert [r["id"] for r in rows] == [original, reprint, old]
    assert rows[1]["duplicate_of"] == original and rows[1]["cluster_id"] == rows[0]["cluster_id"]


def test_since_filters_by_date(store):
    path, original, _, _ = store
    rows = [json.loads(line) for line in export(path, "--since", "7d").stdout.splitlines()]
    assert [r["id"] for r in rows] == [original]


def test_csv_has_bom_header_and_neutralised_formulas(store, tmp_path):
    path, original, _, old = store
    target = tmp_path / "articles.csv"
    result = export(path, "--format", "csv", "--output", str(target))
    assert result.exit_code == 0, result.output
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert [int(r["id"]) for r in rows] == [original, old]
    assert rows[0]["text"] == "Nội dung gốc.\nĐoạn hai."
    assert json.loads(rows[1]["terms"]) == {"military": ["самолёт"]}
    assert rows[1]["text"] == "'-1 самолёт"


def test_failing_output_is_a_usage_error(store, tmp_path):
    path, _, _, _ = store
    result = export(path, "--output", str(tmp_path / "missing" / "a.jsonl"))
    assert result.exit_code == 2
    assert "cannot write" in result.output


def test_export_streams_in_constant_memory(tmp_path):
    """Peak Python memory stays far below the size of the exported texts."""
    path = tmp_path / "big.db"
    db = connect(path)
    text = "Hợp tác quốc phòng Việt – Nga. " * 700  # ~22 KB per article
    with transaction(db) as conn:
        for n in range(800):
            conn.execute(
                """INSERT INTO articles (url, source, lang, title, published, fetched, text, text_sha,
                       terms, extractor_version) VALUES (?, 'qdnd', 'vi', ?, ?, ?, ?, 'x', '{}', 'test')""",
                (f"https://qdnd.example/{n}", f"Tin {n}", NOW.isoformat(), NOW.isoformat(), text),
            )
    db.conn.close()
    target = tmp_path / "out.jsonl"
    tracemalloc.start()
    try:
        result = export(path, "--output", str(target))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.output
    exported = target.stat().st_size
    assert exported > 15_000_000
    assert peak < exported / 5, f"peak {peak} bytes for {exported} bytes exported"
