"""``newsmon classify``: JSON lines in, one answer per line out, errors named by line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scheduler import cli

ON_TOPIC = {"id": 1, "title": "Hợp tác quốc phòng Việt - Nga", "text": "Hai bên ký kế hoạch hợp tác."}
OFF_TOPIC = {"id": "b", "title": "Trường mầm non Nga Tiến", "text": "Các cháu vui Tết Trung thu."}
ENGLISH = {"id": [3], "title": "Russia, Vietnam hold defence talks", "text": "", "lang": "en"}

COFFEE_PROFILE = """
[relevance.groups.coffee]
en = ["coffee"]
[relevance.groups.exports]
en = ["export*"]
"""


def lines_in(*items) -> str:
    return "".join((item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)) + "\n" for item in items)


def answers(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines()]


@pytest.fixture
def runner(tmp_path, monkeypatch):
    """A runner in an empty directory: no newsmon.toml unless a test writes one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSMON_CONFIG", raising=False)
    return CliRunner()


def test_answers_each_line_in_order_with_id_relevance_score_and_terms(runner):
    result = runner.invoke(cli, ["classify"], input=lines_in(ON_TOPIC, OFF_TOPIC, ENGLISH))
    assert result.exit_code == 0, result.output
    out = answers(result.stdout)
    assert [a["id"] for a in out] == [1, "b", [3]]
    assert all(set(a) == {"id", "relevant", "score", "terms"} for a in out)
    assert [a["relevant"] for a in out] == [True, False, True]
    assert out[0]["terms"] == {"vietnam": ["Việt"], "russia": ["Nga"], "defence": ["quốc phòng"]}
    assert out[1]["terms"] == {} and out[1]["score"] == 0
    assert 0 < out[2]["score"] <= 1


def test_without_a_config_the_shipped_profile_is_used_with_a_note(runner):
    result = runner.invoke(cli, ["classify"], input=lines_in(ON_TOPIC))
    assert result.exit_code == 0
    assert "shipped Vietnam–Russia defence profile" in result.stderr


def test_uses_the_profile_of_the_config(runner, tmp_path):
    config = tmp_path / "coffee.toml"
    config.write_text(COFFEE_PROFILE, encoding="utf-8")
    items = ({"id": 1, "title": "Coffee exports rise", "text": ""}, ON_TOPIC)
    result = runner.invoke(cli, ["--config", str(config), "classify"], input=lines_in(*items))
    assert result.exit_code == 0, result.output
    assert [a["relevant"] for a in answers(result.stdout)] == [True, False]
    assert "shipped" not in result.stderr


def test_uses_newsmon_toml_in_the_current_directory(runner, tmp_path):
    (tmp_path / "newsmon.toml").write_text(COFFEE_PROFILE, encoding="utf-8")
    result = runner.invoke(cli, ["classify"], input=lines_in({"id": 1, "title": "Coffee exports", "text": ""}))
    assert answers(result.stdout)[0]["terms"] == {"coffee": ["coffee"], "exports": ["export*"]}


def test_bad_lines_are_named_by_number_and_the_others_still_answered(runner):
    stdin = lines_in(ON_TOPIC, "{not json", "", '["a list"]', {"id": 5, "title": "x"}, {"id": 6, "text": 7},
                     {"id": 7, "text": "", "lang": 1}, ENGLISH)
    result = runner.invoke(cli, ["classify"], input=stdin)
    assert result.exit_code == 2
    assert [a["id"] for a in answers(result.stdout)] == [1, [3]]
    errors = result.stderr
    assert "line 2: not valid JSON" in errors
    assert "line 3" not in errors  # a blank line is skipped, not an error
    assert "line 4: expected a JSON object" in errors
    assert 'line 5: "text" must be a string' in errors
    assert 'line 6: "text" must be a string' in errors
    assert 'line 7: "lang" must be a string or null' in errors
    assert "5 lines could not be classified" in errors
    assert "Traceback" not in result.output


def test_bytes_that_are_not_utf8_are_a_line_error(runner):
    stdin = b'{"id": 1, "text": "caf\xe9"}\n' + lines_in(ON_TOPIC).encode()
    result = runner.invoke(cli, ["classify"], input=stdin)
    assert result.exit_code == 2
    assert "line 1: not UTF-8 text" in result.stderr
    assert [a["id"] for a in answers(result.stdout)] == [1]


def test_explain_adds_reason_and_language(runner):
    result = runner.invoke(cli, ["classify", "--explain"], input=lines_in(OFF_TOPIC, ENGLISH))
    off, english = answers(result.stdout)
    assert off["reason"].startswith("missing group") and "Nga Tiến (place name)" in off["reason"]
    assert off["lang"] == "vi" and english["lang"] == "en"


def test_missing_id_becomes_the_line_number(runner):
    result = runner.invoke(cli, ["classify"], input=lines_in({"title": "a", "text": ""}, {"text": "b"}))
    assert [a["id"] for a in answers(result.stdout)] == [1, 2]


def test_a_config_asked_for_but_missing_or_broken_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(cli, ["--config", str(tmp_path / "nope.toml"), "classify"], input=lines_in(ON_TOPIC))
    assert result.exit_code == 2 and "not found" in result.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text('[relevance]\nthreshold = 7\n', encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(broken), "classify"], input=lines_in(ON_TOPIC))
    assert result.exit_code == 2 and "relevance.threshold" in result.stderr


def test_help_is_a_manual_with_an_example(runner):
    result = runner.invoke(cli, ["classify", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "newsmon classify" in result.output and "--explain" in result.output
