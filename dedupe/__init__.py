"""Near-duplicate detection: one story, however many outlets reprint it.

Pure Python (no Scrapy, no SQLite): normalise (:mod:`dedupe.normalize`), shingle
(:mod:`dedupe.shingles`), MinHash (:mod:`dedupe.minhash`), the per-article
:class:`Signature` (:mod:`dedupe.signature`), LSH lookup and verification over a
storage interface (:mod:`dedupe.index`) and the canonical rule
(:mod:`dedupe.canonical`). The SQLite storage is ``store.lsh_storage``.
"""

from dedupe.signature import Signature, compute_signature, signature_params

__all__ = ["Signature", "compute_signature", "signature_params"]
