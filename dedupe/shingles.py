"""Word n-gram shingles: the set a MinHash signature summarises.

Word n-grams (rather than single words) make the comparison about phrasing, not
vocabulary: two different meetings of the same minister share most of their words
but few of their three-word sequences, while a reprint shares nearly all of them.
"""

from __future__ import annotations


def word_shingles(words: list[str], size: int) -> set[bytes]:
    """The distinct ``size``-word sequences of ``words``, UTF-8 encoded for hashing.

    A text shorter than ``size`` words is one shingle of all its words; an empty
    text has no shingles.

    >>> sorted(word_shingles(["a", "b", "c", "d"], 3))
    [b'a b c', b'b c d']
    """
    if size < 1:
        raise ValueError(f"shingle size must be at least 1, got {size}")
    if not words:
        return set()
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}
