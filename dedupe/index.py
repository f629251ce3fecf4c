"""Find the stored article a new one duplicates: banded LSH lookup, then verification.

The index itself lives behind :class:`SignatureStorage` (``store.lsh_storage`` keeps
it in SQLite), so this module holds only the decisions:

1. Texts shorter than ``min_tokens`` words never match anything (failed extractions,
   cookie walls and 404 pages must not become one giant cluster).
2. The same normalised text (same SHA-1) always matches, whatever the MinHash says
   and however far apart the two were published.
3. Otherwise the candidates are the articles sharing at least one LSH band hash
   (``bands`` bands of ``rows`` MinHash values; the band number is folded into the
   hash) and published within ``window`` of this one. A candidate is verified when the
   estimated Jaccard similarity reaches ``threshold`` or the estimated containment of
   the shorter text in the longer reaches ``containment`` (a reprint that dropped the
   last paragraphs is contained in the original).
4. The article joins the cluster of its verified matches (:func:`clusters_to_join`
   says when two clusters turn out to be one story).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping, Protocol, Sequence

import numpy as np
import xxhash

from dedupe.minhash import VALUE_DTYPE, estimate_jaccard, estimate_overlap

_SIGNED = 1 << 63
_UNSIGNED = 1 << 64


@dataclass(frozen=True, eq=False)  # compared by article id, never by value arrays
class StoredSignature:
    """A signature as the storage returns it, with the article it belongs to."""

    article_id: int
    published: datetime
    values: np.ndarray
    text_sha: str
    tokens: int
    shingles: int


@dataclass(frozen=True)
class Match:
    """A verified duplicate: which stored article, and how similar."""

    article_id: int
    jaccard: float
    overlap: float  # estimated containment of the shorter text in the longer
    exact: bool = False  # same normalised text
    stored: StoredSignature | None = field(default=None, compare=False, repr=False)

    @property
    def similarity(self) -> float:
        """The score stored in ``articles.similarity``: the containment estimate."""
        return self.overlap


class SignatureStorage(Protocol):
    """Where signatures and band hashes live (``store.lsh_storage.SqliteSignatureStorage``)."""

    def same_text(self, text_sha: str, exclude: int | None) -> list[StoredSignature]:
        """Stored signatures of exactly this normalised text."""

    def band_candidates(self, hashes: Sequence[int], exclude: int | None) -> list[int]:
        """Ids of articles with at least one of these band hashes."""

    def signatures(self, article_ids: Sequence[int], since: datetime, until: datetime) -> list[StoredSignature]:
        """Stored signatures of these articles published between ``since`` and ``until``."""


def band_hashes(values: np.ndarray, bands: int, rows: int) -> list[int]:
    """One 64-bit hash per LSH band, the band number folded in (as the seed).

    Returned as signed integers, which is what SQLite's INTEGER holds.
    """
    used = np.ascontiguousarray(values[: bands * rows], dtype=VALUE_DTYPE)
    if len(used) < bands * rows:
        raise ValueError(f"{bands} bands of {rows} rows need {bands * rows} MinHash values, got {len(used)}")
    used = used.reshape(bands, rows)
    hashes = []
    for band in range(bands):
        value = xxhash.xxh3_64_intdigest(used[band].tobytes(), seed=band)
        hashes.append(value - _UNSIGNED if value >= _SIGNED else value)
    return hashes


def compare(a, b) -> tuple[float, float]:
    """(estimated Jaccard, estimated containment) of two signatures.

    ``a`` and ``b`` have ``values``, ``text_sha`` and ``shingles``; equal normalised
    texts are (1.0, 1.0) exactly.
    """
    if a.text_sha == b.text_sha:
        return 1.0, 1.0
    jaccard = estimate_jaccard(a.values, b.values)
    return jaccard, estimate_overlap(jaccard, a.shingles, b.shingles)


def is_verified(jaccard: float, overlap: float, params) -> bool:
    """The verification rule: similar enough as a whole, or one contained in the other."""
    return jaccard >= params.threshold or overlap >= params.containment


def can_match(signature, params) -> bool:
    """Whether a text is long enough to be matched at all."""
    return signature.tokens >= params.min_tokens and signature.tokens > 0


def time_window(published: datetime, params) -> tuple[datetime, datetime]:
    """The publication times a candidate must fall between."""
    return published - params.window, published + params.window


def find_matches(signature, published: datetime, storage: SignatureStorage, params,
                 exclude: int | None = None) -> list[Match]:
    """Every stored article ``signature`` duplicates, best first.

    ``published`` is the new article's publication time (or fetch time when it has
    none); ``exclude`` its own id, so it never matches itself.
    """
    if not can_match(signature, params):
        return []
    matches: dict[int, Match] = {}
    for stored in storage.same_text(signature.text_sha, exclude):
        if can_match(stored, params):
            matches[stored.article_id] = Match(stored.article_id, 1.0, 1.0, exact=True, stored=stored)
    ids = storage.band_candidates(band_hashes(signature.values, params.bands, params.rows), exclude)
    ids = [i for i in ids if i not in matches]
    if ids:
        since, until = time_window(published, params)
        for stored in storage.signatures(ids, since, until):
            if not can_match(stored, params):
                continue
            jaccard, overlap = compare(signature, stored)
            if is_verified(jaccard, overlap, params):
                matches[stored.article_id] = Match(stored.article_id, jaccard, overlap, stored=stored)
    return sorted(matches.values(), key=lambda m: (not m.exact, -m.overlap, -m.jaccard, m.article_id))


def find_best_match(signature, published: datetime, storage: SignatureStorage, params,
                    exclude: int | None = None) -> Match | None:
    """The stored article ``signature`` duplicates best, or None."""
    matches = find_matches(signature, published, storage, params, exclude)
    return matches[0] if matches else None


def clusters_to_join(matches: Sequence[Match], cluster_of: Mapping[int, int]) -> list[int]:
    """The clusters a new article with these ``matches`` (best first) belongs to; none: a new story.

    Usually one. When the first copies of a story did not verify against each other
    (a heavily cut copy and an edited one) they start two clusters; a later copy that
    verifies against both shows they are one story, and the clusters are joined. But
    only when the two matched copies are related themselves (they share at least
    :data:`RELATED_OVERLAP` of the shorter one): a news round-up that contains two
    different stories verifies against both and must not merge them.
    """
    joined: list[int] = []
    anchors: list[Match] = []
    for match in matches:
        cluster = cluster_of.get(match.article_id)
        if cluster is None:
            continue
        if not joined:
            joined.append(cluster)
            anchors.append(match)
            continue
        if any(_related(match, anchor) for anchor in anchors):
            anchors.append(match)
            if cluster not in joined:
                joined.append(cluster)
    return joined


# Two stored copies that share this much of the shorter one are one story, even if they
# did not verify against each other (different stories share almost no 5-word sequences;
# the worst press-release-template pair in the evaluation set shared less than half).
RELATED_OVERLAP = 0.3


def _related(a: Match, b: Match) -> bool:
    if a.stored is None or b.stored is None:
        return False
    return compare(a.stored, b.stored)[1] >= RELATED_OVERLAP
