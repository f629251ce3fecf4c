"""``newsmon cluster`` and ``newsmon dedupe`` as users run them (CliRunner)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner

from crawler.config import DedupeConfig
from crawler.items import ArticleRecord, ExtractedArticle
from store.articles import save_article
from store.db import connect
from store.lsh_storage import SqliteDeduplicator
from scheduler import cli

SEEDS = Path(__file__).parent / "fixtures" / "seeds"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def seed(number: str) -> str:
    return next(SEEDS.glob(f"{number}_*.txt")).read_text(encoding="utf-8")


def half(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[: len(lines) // 2])


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input)


def jsonl(*items: dict) -> str:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)


def test_cluster_groups_reprints_and_names_the_canonical(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no newsmon.toml here: the [dedupe] defaults apply
    lines = jsonl(
        {"id": "copy", "title": "Bản sao", "text": half(seed("002")), "published": "2024-08-14T10:00:00+07:00",
         "source": "tuoitre"},
        {"id": "wire", "title": "Gốc", "text": seed("002"), "published": "2024-08-14T11:00:00+07:00",
         "source": "baochinhphu"},
        {"id": 7, "title": "Khác", "text": seed("004")},
        {"id": "tiny", "title": "404", "text": "Không tìm thấy trang"},
        {"id": "tiny-again", "title": "404", "text": "Không tìm thấy trang"},
    )
    result = run("cluster", "--wire", "baochinhphu", input=lines)
    assert result.exit_code == 0, result.output
    out = {row["id"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert list(out) == ["copy", "wire", 7, "tiny", "tiny-again"]  # input order, ids as given
    assert out["copy"]["cluster"] == out["wire"]["cluster"] == 1
    assert out["copy"]["canonical"] == out["wire"]["canonical"] == "wire"  # the wire copy, though later
    assert out["wire"]["similarity"] is None and out["copy"]["similarity"] >= 0.8
    assert len({out[k]["cluster"] for k in (7, "tiny", "tiny-again")}) == 3
    assert out[7]["canonical"] == 7


def test_bad_lines_are_reported_and_the_rest_answered(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = jsonl({"id": "a", "text": seed("001")}) + "{not json\n" + jsonl(
        {"id": "b"}, {"id": "a", "text": "again"}, {"id": "c", "text": half(seed("001")), "published": "soon"},
        {"id": "d", "text": half(seed("001"))})
    result = run("cluster", input=text)
    assert result.exit_code == 2
    answered = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert answered == ["a", "d"]
    assert "line 2: not valid JSON" in result.stderr
    assert 'line 3: missing "text"' in result.stderr
    assert 'line 4: id "a" was already used on line 1' in result.stderr
    assert 'line 5: "published" is not an ISO 8601 date' in result.stderr
    assert "Traceback" not in result.output


def test_cluster_reads_a_file_and_uses_the_config(tmp_path):
    config = tmp_path / "newsmon.toml"
    config.write_text('[dedupe]\nmin_tokens = 5000\n', encoding="utf-8")  # nothing is long enough to cluster
    data = tmp_path / "in.jsonl"
    data.write_text(jsonl({"id": 1, "text": seed("003")}, {"id": 2, "text": seed("003")}), encoding="utf-8")
    result = run("--config", str(config), "cluster", str(data))
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["cluster"] for line in result.stdout.splitlines()] == [1, 2]
    missing = run("--config", str(tmp_path / "nope.toml"), "cluster", str(data))
    assert missing.exit_code == 2 and "nope.toml" in missing.output


def _store_with_reprints(path: Path) -> None:
    db = connect(path)
    deduplicator = SqliteDeduplicator(DedupeConfig(), {"baochinhphu"})
    for i, (source, text) in enumerate([("baochinhphu", seed("002")), ("tuoitre", half(seed("002"))),
                                        ("qdnd", seed("004")), ("vov", seed("004") + "\nTheo VOV")]):
        article = ExtractedArticle(title=f"t{i}", author=None, published=NOW - timedelta(hours=10 - i), lang="vi",
                                   text=text, extractor_version="test")
        record = ArticleRecord(url=f"https://{source}.example/{i}", source=source, fetched=NOW, html=b"<p></p>",
                               article=article, relevant=True, score=5.0)
        save_article(db, record, dedupe=deduplicator)
    db.conn.close()


def test_dedupe_rebuild_after_changing_parameters(tmp_path):
    store = tmp_path / "news.db"
    _store_with_reprints(store)
    config = tmp_path / "newsmon.toml"
    config.write_text(f'[store]\npath = "{store}"\n\n[dedupe]\nshingle_size = 3\n', encoding="utf-8")

    status = run("--config", str(config), "dedupe")
    assert status.exit_code == 0, status.output
    assert "dedupe --rebuild" in status.stderr  # the index was built with shingle_size = 5

    rebuilt = run("--config", str(config), "dedupe", "--rebuild", "--batch-size", "3")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "signatures          4" in rebuilt.stdout
    assert "clusters            2 (2 with reprints)" in rebuilt.stdout
    assert "dedupe --rebuild" not in rebuilt.stderr
    db = connect(store)
    try:
        assert "shingle_size=3" in db.execute("SELECT value FROM dedupe_state WHERE key = 'params'").fetchone()[0]
        canonical_sources = {r[0] for r in db.execute(
            "SELECT a.source FROM clusters c JOIN articles a ON a.id = c.canonical_id")}
        assert canonical_sources == {"baochinhphu", "qdnd"}
    finally:
        db.conn.close()


def test_dedupe_without_a_store_is_a_usage_error(tmp_path):
    config = tmp_path / "newsmon.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "none.db"}"\n', encoding="utf-8")
    result = run("--config", str(config), "dedupe", "--rebuild")
    assert result.exit_code == 2
    assert "no store at" in result.output
    assert not (tmp_path / "none.db").exists()


def test_help_pages_are_manuals_with_examples():
    for command in ("cluster", "dedupe"):
        result = run(command, "--help")
        assert result.exit_code == 0
        assert "Examples:" in result.output and f"newsmon {command}" in result.output
