"""Precision and recall of the shipped profile on a labelled evaluation set, per language.

``tests/fixtures/relevance_eval.jsonl``: 212 short items (title + 1–3
sentences) in four sets — Vietnamese with diacritics, Vietnamese typed without
them, English and Russian — each half on-topic (ministers' talks, arms deals,
exercises, military-technical cooperation, defence dialogues) and half hard
negatives ("Nga" as a name or place, Russia–Vietnam trade, energy, education,
medicine and sport, Vietnam's defence ties with other countries, Russia's war
with no Vietnam link, military-owned businesses). The 164 ``"batch": "tuning"``
items were written before the matcher; the 48 ``"batch": "holdout"`` items after
tuning on them. Scored untouched, the holdout had recall 1.0 in every set and 2
false positives among its 24 negatives ("Cô giáo Nga" typed without diacritics;
a football headline with "defence"); both were fixed by general rules (two-word
personal titles, more sport vocabulary), not by item-specific terms. The two
false positives left are incidental mentions inside one sentence (India and
Russia co-developed BrahMos, which India offers to Vietnam).

Run ``pytest -s tests/test_relevance_eval.py`` to see the table.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from crawler.relevance import default_profile, score_article

EVAL = Path(__file__).resolve().parent / "fixtures" / "relevance_eval.jsonl"
SETS = ("vi", "vi-ascii", "en", "ru")
MINIMUM = 0.95


def load_items() -> list[dict]:
    with EVAL.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def confusion(items: list[dict], use_given_language: bool) -> dict[str, Counter]:
    profile = default_profile()
    counts = {name: Counter() for name in SETS}
    for item in items:
        lang = item["lang"] if use_given_language else None
        predicted = score_article(profile, item["title"], item["text"], lang).relevant
        key = ("t" if predicted == item["relevant"] else "f") + ("p" if predicted else "n")
        counts[item["set"]][key] += 1
    return counts


def precision_recall(c: Counter) -> tuple[float, float]:
    precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    return precision, recall


def print_table(title: str, counts: dict[str, Counter]) -> None:
    print(f"\n{title}\n{'set':<9} {'items':>5} {'precision':>9} {'recall':>6}   tp  fp  fn  tn")
    for name, c in counts.items():
        precision, recall = precision_recall(c)
        print(f"{name:<9} {sum(c.values()):>5} {precision:>9.3f} {recall:>6.3f}  "
              f"{c['tp']:>3} {c['fp']:>3} {c['fn']:>3} {c['tn']:>3}")


def test_evaluation_set_is_big_and_balanced_enough():
    items = load_items()
    assert len(items) >= 150
    assert len({item["id"] for item in items}) == len(items)
    per_set = Counter(item["set"] for item in items)
    assert all(per_set[name] >= 35 for name in SETS), per_set
    for name in SETS:
        labels = Counter(item["relevant"] for item in items if item["set"] == name)
        assert labels[True] >= 15 and labels[False] >= 15, (name, labels)
    plain = [item for item in items if item["set"] == "vi-ascii"]
    assert all(item["title"].isascii() and item["text"].isascii() for item in plain)


@pytest.mark.parametrize("use_given_language", [True, False], ids=["language-given", "language-detected"])
def test_precision_and_recall_per_language(use_given_language):
    counts = confusion(load_items(), use_given_language)
    print_table(f"relevance evaluation ({'language given' if use_given_language else 'language detected'})", counts)
    for name, c in counts.items():
        precision, recall = precision_recall(c)
        assert precision >= MINIMUM, f"{name}: precision {precision:.3f} < {MINIMUM}"
        assert recall >= MINIMUM, f"{name}: recall {recall:.3f} < {MINIMUM}"
