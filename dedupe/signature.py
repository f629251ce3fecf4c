"""What the crawl computes per article before it touches the store: its :class:`Signature`.

:func:`compute_signature` is pure CPU work (normalise, shingle, MinHash), so the
crawl can run it off the database connection; the store then files the article
into a cluster with it (``store.lsh_storage``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from dedupe.minhash import HASH_FUNCTION, MINHASH_SCHEME, MINHASH_SEED, minhash_values, values_from_bytes
from dedupe.normalize import NORMALIZE_VERSION, normalized_words
from dedupe.shingles import word_shingles


@dataclass(frozen=True)
class Signature:
    """The MinHash of one article's normalised text, and what verification needs besides.

    ``minhash`` is ``num_perm`` little-endian uint32 values (512 bytes at 128);
    ``text_sha`` the SHA-1 of the normalised text (equal for exact duplicates);
    ``tokens`` its word count; ``shingles`` the number of distinct shingles (the set
    size that turns a Jaccard estimate into a containment estimate).
    """

    minhash: bytes
    text_sha: str
    tokens: int
    shingles: int

    @property
    def values(self) -> np.ndarray:
        """The MinHash values as a uint32 array."""
        return values_from_bytes(self.minhash)


def compute_signature(text: str, params) -> Signature:
    """Normalise ``text``, shingle it and MinHash it with ``params``.

    ``params`` is a :class:`crawler.config.DedupeConfig` (``shingle_size``, ``num_perm``).

    >>> from crawler.config import DedupeConfig
    >>> a = compute_signature("HANOI (Reuters) - Two ministers met.", DedupeConfig())
    >>> b = compute_signature("Two ministers met!\\nTheo VGP News", DedupeConfig())
    >>> a.text_sha == b.text_sha, a.tokens
    (True, 3)
    """
    words = normalized_words(text)
    normalized = " ".join(words)
    shingles = word_shingles(words, params.shingle_size)
    values = minhash_values(shingles, params.num_perm)
    return Signature(
        minhash=values.tobytes(),
        text_sha=hashlib.sha1(normalized.encode("utf-8")).hexdigest(),
        tokens=len(words),
        shingles=len(shingles),
    )


def signature_params(params) -> str:
    """A fingerprint of everything that makes stored signatures and bands comparable.

    Two stores built with different fingerprints cannot share an index: a change
    of shingle size, permutations, banding or normalisation rules needs
    ``newsmon dedupe --rebuild``. Thresholds and the time window are not part of it.
    """
    return (
        f"normalize={NORMALIZE_VERSION} shingle_size={params.shingle_size} num_perm={params.num_perm} "
        f"bands={params.bands}x{params.rows} minhash={MINHASH_SCHEME}/{HASH_FUNCTION}/seed{MINHASH_SEED}"
    )
