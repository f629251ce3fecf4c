"""Benchmark: near-duplicate lookup cost as the store grows (run: ``python -m bench.dedupe_lookup``).

For each size (default 10k and 1M stored signatures) it builds a store with the real
schema, filled fast with synthetic rows: random 512-byte signatures and 32 random band
hashes per article (band hashes are xxhash outputs, so random 64-bit integers are what
a real index holds), plus a few hundred real articles ("originals") whose reprints
are looked up. Then a fresh Python process — like a crawl — opens the store and
measures:

- start-up: importing the engine, opening the store and checking the index parameters
  (nothing is loaded into memory, so it must not grow with the store);
- lookup: ``dedupe.index.find_matches`` (band query, window filter, verification) for
  reprints of stored originals and for new stories that match nothing;
- assign: the whole ``SqliteDeduplicator.assign_signature`` (lookup, writes, cluster
  bookkeeping), each in a transaction that is rolled back;
- the process's peak RSS.

Lookup and assign times are medians, measured in rounds that alternate between the
stores in one process (CPU speed drifts on shared machines, so only ratios measured
together are comparable), and reported as a ratio to the smallest size (goal: at most
2x at 1M). The 1M build takes one to two minutes on a 2-core machine; ``--sizes``
makes it smaller or larger. :func:`run` returns the numbers as a dict.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

DEFAULT_SIZES = (10_000, 1_000_000)
DEFAULT_LOOKUPS = 300
_VOCABULARY = [f"từ{n}" for n in range(20_000)]


def _text(rng: random.Random, words: int = 400) -> str:
    return " ".join(rng.choice(_VOCABULARY) for _ in range(words))


def _reprint(text: str, rng: random.Random) -> str:
    """The first 75% of a text with a few words changed: a trimmed, lightly edited copy."""
    words = text.split()
    words = words[: len(words) * 3 // 4]
    for _ in range(5):
        words[rng.randrange(len(words))] = rng.choice(_VOCABULARY)
    return " ".join(words)


# --- building a store ----------------------------------------------------------------


def build_store(path: Path, size: int, originals: int, seed: int = 7) -> dict:
    """A store of ``size`` signatures, ``originals`` of them real; returns what the worker needs."""
    import numpy as np

    from crawler.config import DedupeConfig
    from dedupe import compute_signature, signature_params
    from dedupe.index import band_hashes
    from store.db import connect
    from store.lsh_storage import iso_utc

    config = DedupeConfig()
    rng = random.Random(seed)
    generator = np.random.default_rng(seed)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    started = time.perf_counter()

    db = connect(path)
    conn = db.conn
    conn.execute("PRAGMA journal_mode = OFF")  # a throw-away bulk load
    conn.execute("PRAGMA foreign_keys = OFF")  # signatures of synthetic articles have no article row
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -262144")
    conn.execute("DROP INDEX lsh_bands_article")  # rebuilt after the sorted load

    original_ids = sorted(rng.sample(range(1, size + 1), min(originals, size)))
    original_texts = {article_id: _text(rng) for article_id in original_ids}
    signatures = {article_id: compute_signature(text, config) for article_id, text in original_texts.items()}

    # band rows: random hashes for everyone, real ones for the originals; inserted in key order
    hashes = generator.integers(-(2**63), 2**63 - 1, size=(size, config.bands), dtype=np.int64)
    for article_id, signature in signatures.items():
        hashes[article_id - 1] = band_hashes(signature.values, config.bands, config.rows)
    ids = np.repeat(np.arange(1, size + 1, dtype=np.int64), config.bands)
    bands = np.tile(np.arange(config.bands, dtype=np.int64), size)
    flat = hashes.reshape(-1)
    order = np.argsort(flat, kind="stable")
    conn.execute("BEGIN")
    for start in range(0, len(order), 1_000_000):
        chunk = order[start : start + 1_000_000]
        conn.executemany("INSERT INTO lsh_bands (hash, article_id, band) VALUES (?,?,?)",
                         zip(flat[chunk].tolist(), ids[chunk].tolist(), bands[chunk].tolist()))
    conn.execute("COMMIT")
    del hashes, ids, bands, flat, order
    conn.execute("CREATE INDEX lsh_bands_article ON lsh_bands(article_id)")

    # signatures, in id order; published over the last 150 days, originals in the last week
    days = generator.uniform(0, 150, size)
    conn.execute("BEGIN")
    for start in range(1, size + 1, 100_000):
        rows = []
        for article_id in range(start, min(start + 100_000, size + 1)):
            signature = signatures.get(article_id)
            if signature is None:
                published = now - timedelta(days=float(days[article_id - 1]))
                rows.append((article_id, iso_utc(published), os.urandom(4 * config.num_perm),
                             f"{article_id:040x}", 400, 396))
            else:
                published = now - timedelta(days=rng.uniform(1, 7))
                rows.append((article_id, iso_utc(published), signature.minhash, signature.text_sha,
                             signature.tokens, signature.shingles))
        conn.executemany(
            "INSERT INTO signatures (article_id, published, minhash, norm_sha, tokens, shingles) VALUES (?,?,?,?,?,?)",
            rows)
    # the originals are real articles in clusters of their own (the others are never candidates)
    for article_id, text in original_texts.items():
        conn.execute(
            """INSERT INTO articles (id, url, source, published, fetched, text, text_sha, extractor_version)
               VALUES (?,?,?,?,?,?,?,?)""",
            (article_id, f"https://bench.example/{article_id}", "bench", iso_utc(now), iso_utc(now), text,
             f"{article_id:040x}", "bench"))
        cluster_id = conn.execute(
            "INSERT INTO clusters (canonical_id, first_seen, last_seen, size, sources) VALUES (?,?,?,1,'[\"bench\"]') "
            "RETURNING id", (article_id, iso_utc(now), iso_utc(now))).fetchone()[0]
        conn.execute("UPDATE articles SET cluster_id = ? WHERE id = ?", (cluster_id, article_id))
    conn.execute("INSERT INTO dedupe_state (key, value) VALUES ('params', ?)", (signature_params(config),))
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return {
        "build_s": time.perf_counter() - started,
        "file_mb": path.stat().st_size / 2**20,
        "reprints": [_reprint(original_texts[i], rng) for i in original_ids],
        "new_stories": [_text(rng) for _ in original_ids],
    }


# --- measuring ------------------------------------------------------------------------


class _Probe:
    """One store opened like a crawl opens it, with its queries' signatures computed."""

    def __init__(self, path: str, queries_file: str):
        from crawler.config import DedupeConfig
        from dedupe import compute_signature
        from store.db import connect
        from store.lsh_storage import SqliteDeduplicator, SqliteSignatureStorage

        self.config = DedupeConfig()
        self.db = connect(path)
        self.deduplicator = SqliteDeduplicator(self.config, set())
        self.deduplicator.check_params(self.db)
        self.storage = SqliteSignatureStorage(self.db.conn)
        queries = json.loads(Path(queries_file).read_text(encoding="utf-8"))
        self.signatures = {kind: [compute_signature(text, self.config) for text in texts]
                           for kind, texts in queries.items()}
        self.now = datetime.now(timezone.utc)

    def lookups(self, kind: str) -> tuple[list[float], int]:
        """Seconds per ``find_matches`` call, and how many queries found a match."""
        from dedupe.index import find_matches

        times, found = [], 0
        for signature in self.signatures[kind]:
            t = time.perf_counter()
            matches = find_matches(signature, self.now, self.storage, self.config)
            times.append(time.perf_counter() - t)
            found += bool(matches)
        return times, found

    def assigns(self, kind: str) -> list[float]:
        """Seconds per ``assign_signature``, each in its own transaction (rolled back)."""
        conn, times = self.db.conn, []
        for n, signature in enumerate(self.signatures[kind]):
            conn.execute("BEGIN IMMEDIATE")
            article_id = conn.execute(
                """INSERT INTO articles (url, source, published, fetched, text, text_sha, extractor_version)
                   VALUES (?, 'query', ?, ?, '', '', 'bench') RETURNING id""",
                (f"https://query.example/{kind}/{n}", self.now.isoformat(), self.now.isoformat())).fetchone()[0]
            t = time.perf_counter()
            self.deduplicator.assign_signature(self.db, article_id, signature, source="query", published=self.now)
            times.append(time.perf_counter() - t)
            conn.execute("ROLLBACK")
        return times

    def close(self) -> None:
        self.db.conn.close()


def worker(path: str, queries_file: str) -> dict:
    """A fresh process opening one store, as a crawl does: start-up, first lookups, peak RSS."""
    started = time.perf_counter()
    import dedupe.index  # noqa: F401  (the engine's imports count as start-up)
    from crawler.config import DedupeConfig
    from dedupe import compute_signature
    from store.db import connect
    from store.lsh_storage import SqliteDeduplicator

    compute_signature("warm up the MinHash permutations", DedupeConfig())  # imports datasketch
    imported = time.perf_counter()
    db = connect(path)
    SqliteDeduplicator(DedupeConfig(), set()).check_params(db)
    ready = time.perf_counter()
    db.conn.close()
    probe = _Probe(path, queries_file)
    times, found = probe.lookups("reprints")
    assigns = probe.assigns("reprints")
    probe.close()
    return {"startup_s": ready - started, "open_s": ready - imported, "first_lookup_median_ms":
            statistics.median(times) * 1000, "first_assign_median_ms": statistics.median(assigns) * 1000,
            "matched": found, "queries": len(times), "rss_mb": _peak_rss_mb()}


def compare(stores: list[tuple[str, str]], rounds: int) -> list[dict]:
    """Interleaved rounds over all stores in one process; per store the best round's medians.

    CPU speed drifts on shared machines (PERF-NOTES.md): alternating the stores round
    by round and keeping each one's best round makes the ratio between sizes stable.
    """
    probes = [_Probe(path, queries) for path, queries in stores]
    best = [{} for _ in probes]
    for _ in range(rounds):
        for probe, result in zip(probes, best):
            for kind in ("reprints", "new_stories"):
                times, _found = probe.lookups(kind)
                _keep_best(result, f"{kind}_lookup_median_ms", statistics.median(times) * 1000)
                _keep_best(result, f"{kind}_lookup_p95_ms", _p95(times) * 1000)
                _keep_best(result, f"{kind}_assign_median_ms", statistics.median(probe.assigns(kind)) * 1000)
    for probe in probes:
        probe.close()
    return best


def _keep_best(result: dict, key: str, value: float) -> None:
    result[key] = min(result.get(key, value), value)


def _peak_rss_mb() -> float:
    """This process's peak resident set size. /proc's VmHWM starts afresh at exec; ru_maxrss
    may still carry the parent's peak from before the fork."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


# --- the whole benchmark -----------------------------------------------------------------


def _python(*args: str) -> dict:
    """Run this module in a fresh interpreter and return the JSON it prints."""
    done = subprocess.run([sys.executable, "-m", "bench.dedupe_lookup", *args], capture_output=True, text=True,
                          check=True, cwd=str(Path(__file__).resolve().parent.parent))
    return json.loads(done.stdout)


def run(sizes=DEFAULT_SIZES, lookups: int = DEFAULT_LOOKUPS, workdir: str | None = None, keep: bool = False,
        rounds: int = 5, echo=print) -> dict:
    """Build a store per size, measure, print a table, return the numbers."""
    sizes = sorted(sizes)
    directory = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="newsmon-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict] = {}
    stores = []
    try:
        for size in sizes:
            path = directory / f"dedupe_{size}.db"
            for stale in directory.glob(f"dedupe_{size}.db*"):
                stale.unlink()
            echo(f"building a store of {size:,} signatures ...")
            built = build_store(path, size, min(lookups, size))
            queries = directory / f"queries_{size}.json"
            queries.write_text(json.dumps({"reprints": built.pop("reprints"),
                                           "new_stories": built.pop("new_stories")}), encoding="utf-8")
            results[size] = built
            stores.append((str(path), str(queries)))
        echo("measuring ...")
        for size, (path, queries) in zip(sizes, stores):
            results[size].update(_python("--worker", path, queries))
        for size, measured in zip(sizes, _python("--compare", str(rounds), *[p for store in stores for p in store])):
            results[size].update(measured)
    finally:
        if not keep:
            for path, queries in stores:
                for leftover in [*Path(path).parent.glob(Path(path).name + "*"), Path(queries)]:
                    leftover.unlink(missing_ok=True)
            if not workdir:
                shutil.rmtree(directory, ignore_errors=True)
    base = results[sizes[0]]

    def ratios(key: str) -> dict:
        return {size: r[key] / base[key] for size, r in results.items()}

    summary = {
        "sizes": results,
        "lookup_ratio": ratios("reprints_lookup_median_ms"),
        "new_story_lookup_ratio": ratios("new_stories_lookup_median_ms"),
        "assign_ratio": ratios("reprints_assign_median_ms"),
        "rss_mb_at_largest": results[sizes[-1]]["rss_mb"],
        "startup_s_at_largest": results[sizes[-1]]["startup_s"],
    }
    echo(_table(summary, sizes))
    return summary


def _table(summary: dict, sizes: list[int]) -> str:
    sizes_ = summary["sizes"]
    lines = [
        "near-duplicate lookup per article (median of the best of several interleaved rounds; x = ratio to the "
        "smallest store)",
        f"{'signatures':>12} {'reprint lookup':>17} {'new-story lookup':>17} {'assign (reprint)':>17} "
        f"{'found':>8} {'start-up':>9} {'open':>7} {'peak RSS':>9} {'store':>8} {'build':>6}",
    ]
    for size in sizes:
        r = sizes_[size]
        lines.append(
            f"{size:>12,} {r['reprints_lookup_median_ms']:>8.3f} ms {summary['lookup_ratio'][size]:>4.2f}x "
            f"{r['new_stories_lookup_median_ms']:>8.3f} ms {summary['new_story_lookup_ratio'][size]:>4.2f}x "
            f"{r['reprints_assign_median_ms']:>8.3f} ms {summary['assign_ratio'][size]:>4.2f}x "
            f"{r['matched']:>4}/{r['queries']:<3} {r['startup_s']:>7.2f} s {r['open_s'] * 1000:>4.1f} ms "
            f"{r['rss_mb']:>6.0f} MB {r['file_mb']:>5.0f} MB {r['build_s']:>4.0f} s"
        )
    largest, smallest = sizes[-1], sizes[0]
    ratio = max(summary["lookup_ratio"][largest], summary["new_story_lookup_ratio"][largest])
    verdict = "within" if ratio <= 2 else "ABOVE"
    lines.append(f"lookup at {largest:,} signatures: {ratio:.2f}x the {smallest:,} store ({verdict} the 2x goal); "
                 f"reprint p95 {sizes_[largest]['reprints_lookup_p95_ms']:.3f} ms; first lookups in a fresh "
                 f"process {sizes_[largest]['first_lookup_median_ms']:.3f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dedupe_lookup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                        help="comma-separated store sizes in signatures (default: %(default)s)")
    parser.add_argument("--lookups", type=int, default=DEFAULT_LOOKUPS, help="queries of each kind (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved measuring rounds (default: %(default)s)")
    parser.add_argument("--dir", help="where to build the stores (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the stores afterwards")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    parser.add_argument("--worker", nargs=2, metavar=("DB", "QUERIES"), help=argparse.SUPPRESS)
    parser.add_argument("--compare", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    if args.compare:
        rounds, paths = int(args.compare[0]), args.compare[1:]
        print(json.dumps(compare(list(zip(paths[::2], paths[1::2])), rounds)))
        return
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes: expected numbers like 10000,1000000, got {args.sizes!r}")
    if not sizes or min(sizes) < 1 or args.lookups < 1 or args.rounds < 1:
        parser.error("--sizes, --lookups and --rounds must be positive")
    summary = run(sizes, args.lookups, args.dir, args.keep, args.rounds)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
