"""The deduplicator on its evaluation set (tests/fixtures/dedupe_eval): reprints together, look-alikes apart."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

from crawler.config import DedupeConfig

EVAL_DIR = Path(__file__).parent / "fixtures" / "dedupe_eval"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"dedupe_eval_{name}", EVAL_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


evaluate = _load("evaluate")
DOCUMENTS = evaluate.load_documents()


def test_the_evaluation_set_is_what_its_generator_builds():
    make_eval = _load("make_eval")
    assert (EVAL_DIR / "eval.jsonl").read_text(encoding="utf-8") == make_eval.render(make_eval.build_documents())


def test_the_evaluation_set_is_big_enough():
    kinds = Counter(d["kind"] for d in DOCUMENTS)
    assert kinds["reprint"] >= 60 and kinds["hard_negative"] >= 10
    assert {d["lang"] for d in DOCUMENTS} == {"vi", "en", "ru"}


@pytest.mark.parametrize("order", [0, 1, 2])
def test_precision_and_recall_on_the_evaluation_set(order):
    """Shuffled insertion orders: originals often arrive after their copies."""
    clustered = evaluate.cluster_in_order(DOCUMENTS, DedupeConfig(), order)
    scores = evaluate.score(DOCUMENTS, clustered)
    kinds = Counter(d["kind"] for d in DOCUMENTS)
    print(f"\ndedupe evaluation (order {order}): {len(DOCUMENTS)} documents, {kinds['reprint']} reprints of "
          f"{len({d['story'] for d in DOCUMENTS if d['kind'] == 'reprint'})} stories, {kinds['hard_negative']} hard "
          f"negatives -> {len({c for c, _ in clustered.values()})} clusters; pairwise precision "
          f"{scores.precision:.3f}, recall {scores.recall:.3f}; merged hard negatives "
          f"{len(scores.merged_negatives)}; wrong canonicals {len(scores.wrong_canonicals)}")
    assert scores.merged_negatives == []
    assert scores.precision >= 0.95
    assert scores.recall >= 0.95
    assert scores.wrong_canonicals == []
