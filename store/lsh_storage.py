"""Near-duplicate clusters in the store: the SQLite side of :mod:`dedupe`.

:class:`SqliteSignatureStorage` implements :class:`dedupe.index.SignatureStorage` over
the ``signatures`` and ``lsh_bands`` tables: band hashes (band number folded in) in one
``WITHOUT ROWID`` table queried with ``WHERE hash IN (?, …)``, so a crawl starts without
loading anything and a lookup costs a few index probes however large the store grows.

:class:`SqliteDeduplicator` is what ``store.articles.save_article(db, record, dedupe=…)``
calls inside its transaction: it finds the article's best verified match, joins that
cluster or starts one, re-applies the canonical rule (:mod:`dedupe.canonical`) and
keeps ``articles.cluster_id / duplicate_of / similarity`` and the ``clusters`` row
current. It never begins or commits a transaction itself.

:func:`prune_bands` drops band rows of articles older than ``[dedupe] retention``
(once per crawl); :func:`rebuild_index` recomputes everything after ``[dedupe]``
parameters change (``newsmon dedupe --rebuild``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Iterator, Sequence

from dedupe.canonical import Member, choose_canonical
from dedupe.index import Match, StoredSignature, band_hashes, can_match, clusters_to_join, compare, find_matches
from dedupe.minhash import values_from_bytes
from dedupe.signature import Signature, compute_signature, signature_params

# SQLite allows 32766 host parameters; stay well below for IN (…) lists.
IN_CHUNK = 500
_NO_ID = -1
_SIGNATURE_COLUMNS = "article_id, published, minhash, norm_sha, tokens, shingles"


class IndexParamsChanged(RuntimeError):
    """The store's dedupe index was built with other ``[dedupe]`` parameters."""


@dataclass(frozen=True)
class Assignment:
    """Where one article was filed."""

    cluster_id: int
    canonical_id: int
    duplicate_of: int | None  # the canonical article, None for the canonical itself
    similarity: float | None  # estimated containment against the canonical


def to_utc(value: datetime) -> datetime:
    """An aware UTC datetime (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def iso_utc(value: datetime) -> str:
    """The store's time format: UTC ISO 8601 to the second (sorts as text)."""
    return to_utc(value).isoformat(timespec="seconds")


def parse_utc(text: str) -> datetime:
    return to_utc(datetime.fromisoformat(text))


# --- dedupe_state ----------------------------------------------------------------


def read_state(conn, key: str) -> str | None:
    row = conn.execute("SELECT value FROM dedupe_state WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def write_state(conn, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO dedupe_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


# --- storage ---------------------------------------------------------------------


class SqliteSignatureStorage:
    """Signatures and LSH band hashes in the ``signatures`` and ``lsh_bands`` tables."""

    def __init__(self, conn):
        self.conn = conn

    def same_text(self, text_sha: str, exclude: int | None) -> list[StoredSignature]:
        rows = self.conn.execute(
            f"SELECT {_SIGNATURE_COLUMNS} FROM signatures WHERE norm_sha = ? AND article_id != ?",
            (text_sha, _NO_ID if exclude is None else exclude),
        ).fetchall()
        return [_stored(row) for row in rows]

    def band_candidates(self, hashes: Sequence[int], exclude: int | None) -> list[int]:
        found: set[int] = set()
        for chunk in _chunks(list(hashes)):
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.conn.execute(f"SELECT article_id FROM lsh_bands WHERE hash IN ({marks})", chunk))
        found.discard(exclude)
        return sorted(found)

    def signatures(self, article_ids: Sequence[int], since: datetime, until: datetime) -> list[StoredSignature]:
        result = []
        for chunk in _chunks(list(article_ids)):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT {_SIGNATURE_COLUMNS} FROM signatures WHERE article_id IN ({marks}) AND published BETWEEN ? AND ?",
                (*chunk, iso_utc(since), iso_utc(until)),
            ).fetchall()
            result.extend(_stored(row) for row in rows)
        return result

    def signatures_of(self, article_ids: Sequence[int]) -> dict[int, StoredSignature]:
        """Stored signatures of these articles, whenever published."""
        result = {}
        for chunk in _chunks(list(article_ids)):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT {_SIGNATURE_COLUMNS} FROM signatures WHERE article_id IN ({marks})", chunk):
                result[row[0]] = _stored(row)
        return result

    def write(self, article_id: int, signature: Signature, published: datetime, bands: list[int] | None) -> None:
        """Store the signature and, when given, its band hashes."""
        self.conn.execute(
            f"INSERT OR REPLACE INTO signatures ({_SIGNATURE_COLUMNS}) VALUES (?,?,?,?,?,?)",
            (article_id, iso_utc(published), signature.minhash, signature.text_sha, signature.tokens, signature.shingles),
        )
        if bands:
            self.conn.executemany(
                "INSERT OR IGNORE INTO lsh_bands (hash, article_id, band) VALUES (?,?,?)",
                [(value, article_id, band) for band, value in enumerate(bands)],
            )

    def delete(self, article_id: int) -> None:
        self.conn.execute("DELETE FROM lsh_bands WHERE article_id = ?", (article_id,))
        self.conn.execute("DELETE FROM signatures WHERE article_id = ?", (article_id,))


def _stored(row) -> StoredSignature:
    article_id, published, minhash, norm_sha, tokens, shingles = row
    return StoredSignature(article_id, parse_utc(published), values_from_bytes(minhash), norm_sha, tokens, shingles)


def _chunks(values: list, size: int = IN_CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- clustering ------------------------------------------------------------------


class SqliteDeduplicator:
    """Files each stored article into a cluster of reprints of one story.

    ``config`` is the ``[dedupe]`` table (:class:`crawler.config.DedupeConfig`);
    ``wire_sources`` the names of sources marked ``wire = true`` (their copy is the
    canonical one). Construction touches nothing: the index stays on disk.
    ``keep_old_bands`` writes band rows even for articles older than the retention
    (for the throw-away store of ``newsmon cluster``, which has historic collections).
    """

    def __init__(self, config, wire_sources: Iterable[str] = (), *, keep_old_bands: bool = False):
        self.config = config
        self.wire_sources = frozenset(wire_sources)
        self.keep_old_bands = keep_old_bands
        self.fingerprint = signature_params(config)
        self._checked: list = []  # connections whose parameters were checked (sqlite3 has no weakrefs)

    # The interface save_article uses.
    def assign(self, db, article_id: int, record) -> Assignment:
        """File ``record`` (a :class:`crawler.items.ArticleRecord`, stored as ``article_id``).

        Uses ``record.signature`` (computed now if missing) and sets ``record.cluster_id``,
        ``record.duplicate_of`` and ``record.similarity``. Runs in the caller's transaction.
        """
        article = record.article
        signature = record.signature
        if signature is None:
            signature = compute_signature(article.text if article else "", self.config)
            record.signature = signature
        published = (article.published if article else None) or record.hint_published or record.fetched
        result = self.assign_signature(db, article_id, signature, source=record.source, published=published)
        record.cluster_id, record.duplicate_of, record.similarity = (
            result.cluster_id, result.duplicate_of, result.similarity)
        return result

    def check_params(self, db) -> None:
        """Raise :class:`IndexParamsChanged` when the store's index was built with other parameters."""
        conn = _conn(db)
        stored = read_state(conn, "params")
        if stored is not None and stored != self.fingerprint:
            raise IndexParamsChanged(
                f"the store's dedupe index was built with [{stored}] but [dedupe] now gives [{self.fingerprint}]; "
                "run 'newsmon dedupe --rebuild' (or restore the old [dedupe] values)"
            )

    def assign_signature(self, db, article_id: int, signature: Signature, *, source: str,
                         published: datetime) -> Assignment:
        """File an already stored article by its signature (the core of :meth:`assign`).

        ``published`` is the publication time, or the fetch time when unknown.
        """
        conn = _conn(db)
        self._ensure_params(conn)
        published = to_utc(published)
        storage = SqliteSignatureStorage(conn)
        self._detach(conn, storage, article_id)
        matches = find_matches(signature, published, storage, self.config, exclude=article_id)
        bands = None
        if can_match(signature, self.config) and (
            self.keep_old_bands or published >= datetime.now(timezone.utc) - self.config.retention
        ):
            bands = band_hashes(signature.values, self.config.bands, self.config.rows)
        storage.write(article_id, signature, published, bands)
        clusters = clusters_to_join(matches, self._clusters_of(conn, [m.article_id for m in matches]))
        if not clusters:
            return self._start_cluster(conn, article_id, source, published)
        target, absorbed = min(clusters), sorted(clusters)[1:]  # the oldest cluster keeps its id
        if absorbed:
            marks = ",".join("?" * len(absorbed))
            conn.execute(f"UPDATE articles SET cluster_id = ? WHERE cluster_id IN ({marks})", (target, *absorbed))
            conn.execute(f"DELETE FROM clusters WHERE id IN ({marks})", absorbed)
        conn.execute("UPDATE articles SET cluster_id = ? WHERE id = ?", (target, article_id))
        return self._refresh_cluster(conn, storage, target, joined=(article_id, signature, matches),
                                     merged=bool(absorbed))

    @staticmethod
    def _clusters_of(conn, article_ids: list[int]) -> dict[int, int]:
        found = {}
        for chunk in _chunks(article_ids):
            marks = ",".join("?" * len(chunk))
            for article_id, cluster_id in conn.execute(
                f"SELECT id, cluster_id FROM articles WHERE id IN ({marks}) AND cluster_id IS NOT NULL", chunk
            ):
                found[article_id] = cluster_id
        return found

    def _ensure_params(self, conn) -> None:
        if any(checked is conn for checked in self._checked):
            return
        self.check_params(conn)
        if read_state(conn, "params") is None:
            write_state(conn, "params", self.fingerprint)
        self._checked.append(conn)

    def _detach(self, conn, storage: SqliteSignatureStorage, article_id: int) -> None:
        """Take a re-saved article out of its old cluster before filing it again."""
        row = conn.execute("SELECT cluster_id FROM articles WHERE id = ?", (article_id,)).fetchone()
        storage.delete(article_id)
        if row is None or row[0] is None:
            return
        conn.execute("UPDATE articles SET cluster_id = NULL, duplicate_of = NULL, similarity = NULL WHERE id = ?",
                     (article_id,))
        self._refresh_cluster(conn, storage, row[0], joined=None)

    def _start_cluster(self, conn, article_id: int, source: str, published: datetime) -> Assignment:
        when = iso_utc(published)
        cluster_id = conn.execute(
            "INSERT INTO clusters (canonical_id, first_seen, last_seen, size, sources) VALUES (?,?,?,1,?) RETURNING id",
            (article_id, when, when, json.dumps([source], ensure_ascii=False)),
        ).fetchone()[0]
        conn.execute("UPDATE articles SET cluster_id = ?, duplicate_of = NULL, similarity = NULL WHERE id = ?",
                     (cluster_id, article_id))
        return Assignment(cluster_id, article_id, None, None)

    def _refresh_cluster(self, conn, storage: SqliteSignatureStorage, cluster_id: int,
                         joined: tuple[int, Signature, list[Match]] | None, merged: bool = False) -> Assignment | None:
        """Re-apply the canonical rule and update the cluster row and its members' links.

        When only ``joined`` is new and the canonical stays, only its row changes;
        when the canonical changes (or clusters were merged), every member points at
        the new one.
        """
        rows = conn.execute(
            """SELECT a.id, a.source, coalesce(s.published, a.published, a.fetched), coalesce(s.tokens, 0)
               FROM articles a LEFT JOIN signatures s ON s.article_id = a.id WHERE a.cluster_id = ?""",
            (cluster_id,),
        ).fetchall()
        if not rows:
            conn.execute("DELETE FROM clusters WHERE id = ?", (cluster_id,))
            return None
        members = [Member(r[0], r[1], parse_utc(r[2]) if r[2] else None, r[3]) for r in rows]
        canonical = choose_canonical(members, self.wire_sources)
        old = conn.execute("SELECT canonical_id FROM clusters WHERE id = ?", (cluster_id,)).fetchone()
        times = sorted(m.published for m in members if m.published is not None)
        conn.execute(
            "UPDATE clusters SET canonical_id = ?, first_seen = ?, last_seen = ?, size = ?, sources = ? WHERE id = ?",
            (canonical.article_id, iso_utc(times[0]) if times else None, iso_utc(times[-1]) if times else None,
             len(members), json.dumps(sorted({m.source for m in members}), ensure_ascii=False), cluster_id),
        )
        canonical_id = canonical.article_id
        if joined is not None and not merged and old is not None and old[0] == canonical_id:
            article_id, signature, matches = joined
            direct = [m for m in matches if m.article_id == canonical_id]
            if direct:
                similarity = direct[0].similarity
            else:
                stored = storage.signatures_of([canonical_id]).get(canonical_id)
                similarity = compare(signature, stored)[1] if stored is not None else None
            similarity = self._link(conn, article_id, canonical_id, similarity)
            return Assignment(cluster_id, canonical_id, canonical_id, similarity)
        signatures = storage.signatures_of([m.article_id for m in members])
        reference = signatures.get(canonical_id)
        for member in members:
            if member.article_id == canonical_id:
                self._link(conn, member.article_id, None, None)
                continue
            own = signatures.get(member.article_id)
            similarity = compare(own, reference)[1] if own is not None and reference is not None else None
            self._link(conn, member.article_id, canonical_id, similarity)
        if joined is None:
            return None
        article_id = joined[0]
        if article_id == canonical_id:
            return Assignment(cluster_id, canonical_id, None, None)
        similarity = conn.execute("SELECT similarity FROM articles WHERE id = ?", (article_id,)).fetchone()[0]
        return Assignment(cluster_id, canonical_id, canonical_id, similarity)

    @staticmethod
    def _link(conn, article_id: int, duplicate_of: int | None, similarity: float | None) -> float | None:
        """Point a member at its canonical; return the similarity as stored (4 decimals)."""
        similarity = None if similarity is None else round(similarity, 4)
        conn.execute("UPDATE articles SET duplicate_of = ?, similarity = ? WHERE id = ?",
                     (duplicate_of, similarity, article_id))
        return similarity


def _conn(db):
    """The sqlite3 connection of a sqlite_utils Database (or the connection itself)."""
    return getattr(db, "conn", db)


# --- maintenance -----------------------------------------------------------------


def prune_bands(db, config, now: datetime | None = None) -> int:
    """Delete band rows of articles published before ``now - [dedupe] retention``; return how many.

    The crawl calls this once per run. Each run only scans the articles that aged out
    since the previous one (the cut-off is remembered in ``dedupe_state``). Runs in its
    own transaction unless the caller already holds one.
    """
    conn = _conn(db)
    cutoff = iso_utc((now or datetime.now(timezone.utc)) - config.retention)
    if conn.in_transaction:
        return _prune(conn, cutoff)
    conn.execute("BEGIN IMMEDIATE")
    try:
        deleted = _prune(conn, cutoff)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return deleted


def _prune(conn, cutoff: str) -> int:
    previous = read_state(conn, "bands_pruned_before")
    if previous is not None and previous >= cutoff:
        return 0
    if previous is None:
        cursor = conn.execute(
            "DELETE FROM lsh_bands WHERE article_id IN (SELECT article_id FROM signatures WHERE published < ?)",
            (cutoff,))
    else:
        cursor = conn.execute(
            """DELETE FROM lsh_bands WHERE article_id IN
                   (SELECT article_id FROM signatures WHERE published >= ? AND published < ?)""",
            (previous, cutoff))
    write_state(conn, "bands_pruned_before", cutoff)
    return cursor.rowcount


def reset_index(db) -> None:
    """Forget every signature, band and cluster (in the caller's transaction)."""
    conn = _conn(db)
    conn.execute("DELETE FROM lsh_bands")
    conn.execute("DELETE FROM signatures")
    conn.execute("UPDATE articles SET cluster_id = NULL, duplicate_of = NULL, similarity = NULL")
    conn.execute("DELETE FROM clusters")
    conn.execute("DELETE FROM dedupe_state")


def rebuild_index(db, config, wire_sources: Iterable[str] = (), batch_size: int = 500) -> Iterator[int]:
    """Recompute signatures and clusters of every stored article, oldest first.

    Yields the number of articles filed after each batch; every batch is one
    transaction (signatures are computed before it opens), so a crawl waiting for
    the store is held up for one batch at most. Interrupted, the store keeps the
    articles filed so far; run it again to finish.
    """
    from store.articles import transaction

    conn = _conn(db)
    wire = set(wire_sources) | {r[0] for r in conn.execute("SELECT name FROM sources WHERE wire = 1")}
    deduplicator = SqliteDeduplicator(config, wire)
    with transaction(db):
        reset_index(db)
    ids = [r[0] for r in conn.execute("SELECT id FROM articles ORDER BY coalesce(published, fetched), id")]
    for batch in _chunks(ids, max(1, batch_size)):
        marks = ",".join("?" * len(batch))
        rows = conn.execute(
            f"SELECT id, source, text, coalesce(published, fetched) FROM articles WHERE id IN ({marks})", batch
        ).fetchall()
        by_id = {r[0]: r for r in rows}
        work = [(by_id[i], compute_signature(by_id[i][2], config)) for i in batch if i in by_id]
        with transaction(db):
            for (article_id, source, _text, published), signature in work:
                deduplicator.assign_signature(db, article_id, signature, source=source, published=parse_utc(published))
        yield len(batch)


def index_summary(db, config) -> dict:
    """Counts that say what the dedupe index holds, and whether it matches ``config``."""
    conn = _conn(db)
    stored = read_state(conn, "params")
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "articles": one("SELECT count(*) FROM articles"),
        "signatures": one("SELECT count(*) FROM signatures"),
        "band_rows": one("SELECT count(*) FROM lsh_bands"),
        "clusters": one("SELECT count(*) FROM clusters"),
        "clusters_with_reprints": one("SELECT count(*) FROM clusters WHERE size > 1"),
        "duplicates": one("SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL"),
        "params": stored,
        "params_match": stored is None or stored == signature_params(config),
        "bands_pruned_before": read_state(conn, "bands_pruned_before"),
    }


# --- any collection, in a throw-away store ------------------------------------------


@dataclass(frozen=True)
class Document:
    """A text to cluster with :func:`cluster_documents`; ``key`` is the caller's id for it."""

    key: object
    text: str
    title: str | None = None
    published: datetime | None = None
    source: str | None = None


@dataclass(frozen=True)
class DocumentCluster:
    """Where :func:`cluster_documents` put one document."""

    key: object
    cluster: int  # 1, 2, … in the order clusters first appear in the input
    canonical: object  # key of the cluster's canonical document
    similarity: float | None  # estimated containment against the canonical; None for the canonical


def cluster_documents(documents: Iterable[Document], config, wire_sources: Iterable[str] = (),
                      batch_size: int = 500) -> list[DocumentCluster]:
    """Cluster any collection with the crawl's engine, in a temporary SQLite store.

    Documents without a publication time count as published now. Band rows are kept
    whatever the dates (historic collections), and the store is deleted afterwards.
    Results come in input order.
    """
    import tempfile
    from pathlib import Path

    from store.articles import text_sha, transaction
    from store.db import connect

    documents = list(documents)
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory(prefix="newsmon-cluster-") as tmp:
        db = connect(Path(tmp) / "cluster.db")
        try:
            db.conn.execute("PRAGMA synchronous = OFF")  # a throw-away file
            deduplicator = SqliteDeduplicator(config, wire_sources, keep_old_bands=True)
            keys: dict[int, object] = {}
            for position, batch in enumerate(_chunks(documents, max(1, batch_size))):
                signatures = [compute_signature(d.text, config) for d in batch]
                with transaction(db) as conn:
                    for offset, (document, signature) in enumerate(zip(batch, signatures)):
                        published = to_utc(document.published or now)
                        article_id = conn.execute(
                            """INSERT INTO articles (url, source, title, published, fetched, text, text_sha,
                                   extractor_version) VALUES (?,?,?,?,?,?,?,?) RETURNING id""",
                            (f"document:{position * batch_size + offset}", document.source or "unknown",
                             document.title, iso_utc(published), iso_utc(now), document.text,
                             text_sha(document.text), "cluster"),
                        ).fetchone()[0]
                        keys[article_id] = document.key
                        deduplicator.assign_signature(db, article_id, signature, source=document.source or "unknown",
                                                      published=published)
            rows = db.execute(
                """SELECT a.id, a.cluster_id, c.canonical_id, a.similarity
                   FROM articles a JOIN clusters c ON c.id = a.cluster_id ORDER BY a.id"""
            ).fetchall()
        finally:
            db.conn.close()
    numbers: dict[int, int] = {}
    results = []
    for article_id, cluster_id, canonical_id, similarity in rows:
        number = numbers.setdefault(cluster_id, len(numbers) + 1)
        results.append(DocumentCluster(keys[article_id], number, keys[canonical_id], similarity))
    return results
