"""Benchmark 4: ``newsmon search`` / ``newsmon digest`` latency on a 100k-article store, and CLI start-up
(run: ``python -m bench.query_latency``).

The store is built with the real schema (``store.db.connect`` runs the
migrations, the FTS triggers index every row) from the demo site's article texts
at ``scale=100``: each of the N articles takes a base article's title and a
shuffled selection of its paragraphs, a source and language, a publication time
spread over the last 180 days, topic terms, and a cluster (about one in seven is
a reprint filed into an earlier story's cluster, as the dedupe engine would).
Rows are written in one transaction with ``executemany`` (``save_article`` one by
one would take minutes); the columns are the ones ``save_article`` writes.

Each command runs as users run it: a fresh ``newsmon`` process (so start-up and
imports count), timed from spawn to exit. The commands run in rounds, in turn,
and each figure is the median over the rounds; ratios are to ``python -c pass``
(the interpreter alone) measured in the same rounds.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.measure import load_average, median, newsmon_command, run_timed

DEFAULT_ARTICLES = 100_000
DEFAULT_ROUNDS = 5
SPREAD = timedelta(days=180)
REPRINT_SHARE = 0.15
UNREAD = 300  # articles above the digest watermark: a day's worth of "new since the last digest"
TERMS = {"military": ["quốc phòng", "quân sự"], "russia": ["Nga"], "vietnam": ["Việt Nam"]}


def build_store(path: Path, articles: int, seed: int = 7) -> dict:
    """A store of ``articles`` articles (see the module docstring); returns what it holds and how long it took."""
    from crawler.demo_site.catalog import build_catalog
    from store.db import connect

    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    catalog = build_catalog("http://127.0.0.1:8", now, 100)
    bases = [a for a in catalog.articles if a.blocks]
    outlets = {o.name: o for o in catalog.outlets}
    db = connect(path)
    conn = db.conn
    times = sorted((now - SPREAD * rng.random() for _ in range(articles)))  # ids grow with time, as in a crawl
    rows, clusters, members = [], [], {}
    recent: list[tuple[int, int, str]] = []  # (article id, cluster id, source) of the last few hundred
    for n, published in enumerate(times, start=1):
        base = rng.choice(bases)
        paragraphs = [b.text for b in base.blocks]
        rng.shuffle(paragraphs)
        text = "\n".join(paragraphs[: max(2, len(paragraphs) - rng.randrange(3))])
        cluster_id, duplicate_of = n, None
        if recent and rng.random() < REPRINT_SHARE:
            original, cluster_id, _ = rng.choice(recent)
            duplicate_of = original
        stamp = published.isoformat()
        rows.append((n, f"{outlets[base.outlet].base_url}/{base.outlet}/bench/{n}.html", base.outlet, base.lang,
                     f"{base.title} · {n}", base.author, stamp, stamp, text, f"{n:040x}",
                     round(4 + 5 * rng.random(), 2), json.dumps(TERMS, ensure_ascii=False), cluster_id, duplicate_of,
                     0.9 if duplicate_of else None, "bench"))
        if duplicate_of is None:
            clusters.append([n, n, stamp, stamp, 1, {base.outlet}])
            members[n] = clusters[-1]
        else:
            cluster = members[cluster_id]
            cluster[3] = stamp
            cluster[4] += 1
            cluster[5].add(base.outlet)
        recent.append((n, cluster_id, base.outlet))
        del recent[:-500]
    with conn:
        conn.executemany("INSERT OR IGNORE INTO sources (name, lang, wire, first_seen) VALUES (?,?,?,?)",
                         [(o.name, o.lang, int(o.wire), now.isoformat()) for o in catalog.outlets])
        conn.executemany(
            """INSERT INTO articles (id, url, source, lang, title, author, published, fetched, text, text_sha, score,
                   terms, cluster_id, duplicate_of, similarity, extractor_version)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""", rows)
        conn.executemany("INSERT INTO clusters (id, canonical_id, first_seen, last_seen, size, sources) VALUES (?,?,?,?,?,?)",
                         [(c[0], c[1], c[2], c[3], c[4], json.dumps(sorted(c[5]))) for c in clusters])
        conn.execute("INSERT INTO exports (name, watermark, updated) VALUES ('digest', ?, ?)",
                     (str(articles - UNREAD), now.isoformat()))
    conn.execute("ANALYZE")
    db.close()
    return {"articles": articles, "clusters": len(clusters), "build_s": time.perf_counter() - started,
            "file_mb": path.stat().st_size / 1e6}


def commands(config: Path, out: Path) -> dict[str, list[str]]:
    """The timed command lines, by label (``config`` names the store)."""
    def newsmon(*args: str) -> list[str]:
        return newsmon_command(*args, config=config)

    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "newsmon --help": newsmon_command("--help"),
        "search quoc phong": newsmon("search", "quoc", "phong"),
        "search tàu ngầm Kilo --since 30d": newsmon("search", "tàu", "ngầm", "Kilo", "--since", "30d"),
        'search "hợp tác quốc phòng" --json': newsmon("search", '"hợp tác quốc phòng"', "--json"),
        "search россия --lang ru": newsmon("search", "россия", "--lang", "ru"),
        f"digest (since last: {UNREAD} new)": newsmon("digest", "-o", str(out / "digest.md")),
        "digest --since 24h --format html": newsmon("digest", "--since", "24h", "--format", "html", "-o",
                                                    str(out / "digest.html")),
        "digest --since 7d --format json": newsmon("digest", "--since", "7d", "--format", "json", "-o",
                                                   str(out / "digest.json")),
    }


def run(articles: int = DEFAULT_ARTICLES, rounds: int = DEFAULT_ROUNDS, echo=print) -> dict:
    """Build the store, time every command ``rounds`` times in turn; print a table, return the numbers."""
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-query-") as tmp:
        db = Path(tmp) / "news.db"
        echo(f"building a store of {articles:,} articles ...")
        built = build_store(db, articles)
        config = Path(tmp) / "newsmon.toml"
        config.write_text(f"[store]\npath = {json.dumps(str(db))}\n", encoding="utf-8")
        lines = commands(config, Path(tmp))
        timings: dict[str, list[float]] = {label: [] for label in lines}
        loads = [load_average()]
        for label, command in lines.items():  # warm the page cache once, untimed
            _check(label, *run_timed(command)[1:2])
        for _ in range(rounds):
            for label, command in lines.items():
                wall, result, _ = run_timed(command)
                _check(label, result)
                timings[label].append(wall)
            loads.append(load_average())
    base = median(timings["python -c pass"])
    cli = median(timings["newsmon --help"])
    results = {label: {"median_s": median(t), "vs_python": median(t) / base, "vs_cli_start": median(t) / cli,
                       "runs_s": t} for label, t in timings.items()}
    summary = {"store": built, "commands": results, "rounds": rounds, "load": loads}
    echo(table(summary))
    return summary


def _check(label: str, result) -> None:
    if result.returncode != 0:
        raise RuntimeError(f"{label} failed ({result.returncode}):\n{result.stderr[-2000:]}")


def table(summary: dict) -> str:
    store = summary["store"]
    lines = [f"query latency: fresh CLI processes on a store of {store['articles']:,} articles "
             f"({store['file_mb']:.0f} MB; median of {summary['rounds']} rounds)",
             f"{'command':<38} {'median':>9} {'vs python -c pass':>18} {'vs newsmon --help':>18}"]
    for label, r in summary["commands"].items():
        lines.append(f"{label:<38} {r['median_s'] * 1000:>6.0f} ms {r['vs_python']:>17.1f}x {r['vs_cli_start']:>17.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.query_latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=DEFAULT_ARTICLES, help="store size (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="rounds (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    args = parser.parse_args(argv)
    if args.articles <= UNREAD or args.rounds < 1:
        parser.error(f"--articles must be more than {UNREAD} and --rounds at least 1")
    summary = run(args.articles, args.rounds)
    if args.json:
        print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
