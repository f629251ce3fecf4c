"""Broken input from the user: a malformed newsmon.toml, malformed JSON lines on classify/cluster stdin.

Each must give an error that names the place (file and line, key, input line),
exit status 2, no traceback, and nothing written to the store.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scheduler import cli

GOOD_SOURCE = """
[[sources]]
name = "qdnd"
lang = "vi"
feeds = ["https://www.qdnd.vn/rss/quoc-phong"]
"""

BROKEN_CONFIGS = {
    "TOML syntax": ('[store]\npath = "data/news.db"\n\n[crawl]\nwindow = "14d"\ndelay = 1s\n' + GOOD_SOURCE,
                    ["newsmon.toml", "invalid TOML", "line 6"]),
    "unterminated table": ('[store\npath = "x.db"\n' + GOOD_SOURCE, ["newsmon.toml", "invalid TOML", "line 1"]),
    "unknown key": ('[crawl]\ndleay = "1s"\n' + GOOD_SOURCE, ["crawl.dleay", "unknown key"]),
    "wrong type": ('[crawl]\ndownload_timeout = 30\n' + GOOD_SOURCE, ["crawl.download_timeout", "duration"]),
    "bad URL": (GOOD_SOURCE.replace("https://www.qdnd.vn/rss/quoc-phong", "ftp://example.com/feed"),
                ["sources[0] (qdnd).feeds[0]", "not an http(s) URL"]),
    "bad duration": (GOOD_SOURCE + 'silent_after = "3 days"\n', ["sources[0] (qdnd).silent_after", "not a duration"]),
}


@pytest.fixture
def runner(tmp_path, monkeypatch):
    """A runner in an empty directory, so a store written by mistake would show up there."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSMON_CONFIG", raising=False)
    return CliRunner()


def _nothing_written(directory) -> bool:
    return not any(path.suffix in (".db", ".db-wal") or path.name == "data" for path in directory.iterdir())


@pytest.mark.parametrize("case", sorted(BROKEN_CONFIGS))
@pytest.mark.parametrize("command", [["crawl"], ["run"], ["status"], ["search", "quoc phong"], ["digest"]])
def test_a_broken_config_is_a_usage_error_naming_the_place(runner, tmp_path, case, command):
    text, expected = BROKEN_CONFIGS[case]
    (tmp_path / "newsmon.toml").write_text(text.replace('"data/news.db"', f'"{tmp_path / "data" / "news.db"}"'),
                                           encoding="utf-8")
    result = runner.invoke(cli, command)
    assert result.exit_code == 2, result.output
    for words in expected:
        assert words in result.stderr, (words, result.stderr)
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert _nothing_written(tmp_path)


def test_a_config_that_is_not_utf8_names_the_byte(runner, tmp_path):
    (tmp_path / "newsmon.toml").write_bytes(GOOD_SOURCE.encode("utf-8") + b'# caf\xe9\n')
    result = runner.invoke(cli, ["crawl"])
    assert result.exit_code == 2
    assert "newsmon.toml: not UTF-8 text (byte" in result.stderr
    assert _nothing_written(tmp_path)


MALFORMED_LINES = [
    '{"id": 1, "title": "Hợp tác quốc phòng Việt - Nga", "text": "Hai bên ký kế hoạch hợp tác."}\n',
    '{"id": 2, "text": "unterminated\n',
    "not json at all\n",
    "[1, 2, 3]\n",
    b'{"id": 5, "text": "caf\xe9"}\n',
]


def _stdin(lines) -> bytes:
    return b"".join(line if isinstance(line, bytes) else line.encode("utf-8") for line in lines)


def test_classify_names_each_malformed_line_and_exits_2(runner, tmp_path):
    result = runner.invoke(cli, ["classify"], input=_stdin(MALFORMED_LINES))
    assert result.exit_code == 2
    for number in (2, 3, 4, 5):
        assert f"line {number}:" in result.stderr, result.stderr
    assert "line 1:" not in result.stderr
    answered = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["id"] for a in answered] == [1]  # the good line is still answered (documented)
    assert "Traceback" not in result.output
    assert _nothing_written(tmp_path)


def test_cluster_names_each_malformed_line_and_exits_2(runner, tmp_path):
    lines = [MALFORMED_LINES[0], MALFORMED_LINES[1], MALFORMED_LINES[2], '{"text": "no id"}\n']
    result = runner.invoke(cli, ["cluster"], input=_stdin(lines))
    assert result.exit_code == 2
    for number in (2, 3, 4):
        assert f"line {number}:" in result.stderr, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1]
    assert "Traceback" not in result.output
    assert _nothing_written(tmp_path)


@pytest.mark.parametrize("from_file", [True, False], ids=["file", "stdin"])
def test_cluster_names_a_line_that_is_not_utf8(runner, tmp_path, from_file):
    data = _stdin(MALFORMED_LINES[:1]) + b'{"id": 2, "text": "caf\xe9"}\n'
    if from_file:
        (tmp_path / "articles.jsonl").write_bytes(data)
        result = runner.invoke(cli, ["cluster", str(tmp_path / "articles.jsonl")])
    else:
        result = runner.invoke(cli, ["cluster"], input=data)
    assert result.exit_code == 2, result.output
    assert "line 2:" in result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1]
