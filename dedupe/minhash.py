"""MinHash signatures (datasketch) and the similarity estimates read from them.

Signatures are built the fast way (see PERF-NOTES.md): one shared set of
permutations per ``num_perm``, ``update_batch`` over all shingles, and xxhash as
the 32-bit hash function. The values are kept as a little-endian ``uint32`` array
(512 bytes at 128 permutations), which is what the store keeps and compares.

datasketch is imported on first use only, so importing :mod:`dedupe` stays cheap.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable

import numpy as np
import xxhash

# Part of every stored signature's identity: changing any of these needs a rebuild.
MINHASH_SEED = 1
MINHASH_SCHEME = "affine32"
HASH_FUNCTION = "xxh32"
VALUE_DTYPE = np.dtype("<u4")


@lru_cache(maxsize=4)
def shared_permutations(num_perm: int):
    """The permutation parameters every signature of ``num_perm`` values shares."""
    from datasketch import MinHash

    return MinHash(num_perm=num_perm, seed=MINHASH_SEED, scheme=MINHASH_SCHEME).permutations


def minhash_values(shingles: Iterable[bytes], num_perm: int) -> np.ndarray:
    """The MinHash of a shingle set as ``num_perm`` uint32 values.

    An empty set gives the all-maximum signature; callers must not compare those
    (see ``min_tokens``).
    """
    from datasketch import MinHash

    minhash = MinHash(
        num_perm=num_perm,
        seed=MINHASH_SEED,
        scheme=MINHASH_SCHEME,
        hashfunc=xxhash.xxh32_intdigest,
        permutations=shared_permutations(num_perm),
    )
    minhash.update_batch(list(shingles))
    return np.asarray(minhash.hashvalues, dtype=VALUE_DTYPE)


def values_from_bytes(blob: bytes) -> np.ndarray:
    """Stored signature bytes back to the uint32 array (no copy)."""
    return np.frombuffer(blob, dtype=VALUE_DTYPE)


def estimate_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity |A∩B| / |A∪B|: the share of equal MinHash values."""
    if len(a) != len(b):
        raise ValueError(f"signatures of different lengths ({len(a)} and {len(b)}); rebuild the dedupe index")
    return float(np.count_nonzero(a == b)) / len(a)


def estimate_overlap(jaccard: float, size_a: int, size_b: int) -> float:
    """Estimated containment of the smaller set in the larger, |A∩B| / min(|A|, |B|).

    From |A∩B| = J·(|A|+|B|)/(1+J). This is how a reprint that kept only the first
    paragraphs still scores high against the full original. Capped at 1.
    """
    smaller = min(size_a, size_b)
    if smaller <= 0:
        return 0.0
    intersection = jaccard * (size_a + size_b) / (1.0 + jaccard)
    return min(1.0, intersection / smaller)
