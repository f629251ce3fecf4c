"""Benchmark 2: near-duplicate lookup as the store grows, and a real crawl against the largest store
(run: ``python -m bench.dedupe_scale``).

The lookup part is :mod:`bench.dedupe_lookup` (synthetic stores of 10k, 100k and
1M signatures, lookup and assign time per article as ratios to the 10k store, the
measuring process's peak RSS and engine start-up). This module keeps the stores it
built and adds what only a real crawl shows: ``newsmon crawl`` of a small replay
site (scale 1: ~30 articles filed against the stored signatures) into the empty
store and into the largest one, in turn, each crawl in a fresh process:

- the crawl process's peak RSS (``ru_maxrss`` of that one process; the extraction
  workers hold no index and are not counted) — goal: under 500 MB at 1M;
- its start-up: from spawning the process to its first request to the site
  (imports, config, opening the store and the dedupe index, starting Scrapy), as a
  ratio to the same crawl into an empty store.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench import dedupe_lookup
from bench.measure import load_average, median, newsmon_command, run_timed
from bench.replay_site import ReplaySite

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
DEFAULT_CRAWLS = 3
RSS_GOAL_MB = 500
LOOKUP_GOAL = 2.0

#: runs a command and writes the peak RSS of its process (MB) to a file: only that child is waited for here
_RSS_WRAPPER = (
    "import json, resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:]).returncode\n"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
    "open(sys.argv[1], 'w').write(json.dumps({'rss_mb': rss}))\n"
    "sys.exit(code)\n"
)


def crawl_once(site: ReplaySite, db: Path, workdir: Path) -> dict:
    """One ``newsmon crawl`` of ``site`` into ``db``: peak RSS of the crawl process and its start-up time."""
    config = workdir / "newsmon.toml"
    config.write_text(site.config_toml(db), encoding="utf-8")
    report = workdir / "rss.json"
    site.clear_request_log()
    started = time.monotonic()
    wall, result, leftover = run_timed([sys.executable, "-c", _RSS_WRAPPER, str(report),
                                        *newsmon_command("crawl", config=config)])
    if result.returncode != 0:
        raise RuntimeError(f"crawl into {db} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    log = site.request_log
    articles = sum(1 for _, method, path, status in log if method == "GET" and status == 200 and site.is_article(path))
    return {"rss_mb": json.loads(report.read_text())["rss_mb"], "startup_s": log[0][0] - started, "wall_s": wall,
            "article_pages": articles, "leftover_processes": leftover}


def run(sizes=DEFAULT_SIZES, lookups: int = dedupe_lookup.DEFAULT_LOOKUPS, rounds: int = 5,
        crawls: int = DEFAULT_CRAWLS, echo=print) -> dict:
    """Lookup ratios (``bench.dedupe_lookup``), then crawls into an empty and the largest store, in turn."""
    sizes = sorted(sizes)
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-dedupe-") as tmp:
        lookup = dedupe_lookup.run(sizes, lookups, workdir=tmp, keep=True, rounds=rounds, echo=echo)
        largest = Path(tmp) / f"dedupe_{sizes[-1]}.db"
        empty = Path(tmp) / "empty.db"
        runs: dict[str, list[dict]] = {"empty": [], "largest": []}
        with ReplaySite(scale=1, weight="demo") as site:
            for n in range(crawls):
                order = ("empty", "largest") if n % 2 == 0 else ("largest", "empty")
                for which in order:
                    db = empty if which == "empty" else largest
                    workdir = Path(tmp) / which
                    workdir.mkdir(exist_ok=True)
                    runs[which].append({**crawl_once(site, db, workdir), "load_before": load_average()})
    crawl = {
        which: {"rss_mb_max": max(r["rss_mb"] for r in rs), "startup_s": median(r["startup_s"] for r in rs),
                "first_crawl_articles": rs[0]["article_pages"], "runs": rs}
        for which, rs in runs.items()
    }
    summary = {
        "lookup": lookup,
        "crawl": crawl,
        "largest": sizes[-1],
        "crawl_rss_mb_at_largest": crawl["largest"]["rss_mb_max"],
        "crawl_startup_ratio": crawl["largest"]["startup_s"] / crawl["empty"]["startup_s"],
        "lookup_ratio_at_largest": max(lookup["lookup_ratio"][sizes[-1]], lookup["new_story_lookup_ratio"][sizes[-1]]),
    }
    echo(table(summary))
    return summary


def table(s: dict) -> str:
    crawl, largest = s["crawl"], s["largest"]
    rss_verdict = "within" if s["crawl_rss_mb_at_largest"] < RSS_GOAL_MB else "ABOVE"
    return "\n".join([
        f"a real crawl (replay site, scale 1) into an empty store and into the {largest:,}-signature store "
        f"(median start-up of {len(crawl['empty']['runs'])} crawls each, in turn)",
        f"{'store':>22} {'crawl peak RSS':>15} {'start-up':>9} {'articles filed':>15}",
        f"{'empty':>22} {crawl['empty']['rss_mb_max']:>12.0f} MB {crawl['empty']['startup_s']:>7.2f} s "
        f"{crawl['empty']['first_crawl_articles']:>15}",
        f"{f'{largest:,} signatures':>22} {crawl['largest']['rss_mb_max']:>12.0f} MB "
        f"{crawl['largest']['startup_s']:>7.2f} s {crawl['largest']['first_crawl_articles']:>15}",
        f"crawl start-up at {largest:,}: {s['crawl_startup_ratio']:.2f}x the empty store; crawl RSS "
        f"{s['crawl_rss_mb_at_largest']:.0f} MB ({rss_verdict} the {RSS_GOAL_MB} MB goal)",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dedupe_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES),
                        help="comma-separated store sizes in signatures (default: %(default)s)")
    parser.add_argument("--lookups", type=int, default=dedupe_lookup.DEFAULT_LOOKUPS, help="queries of each kind")
    parser.add_argument("--crawls", type=int, default=DEFAULT_CRAWLS, help="crawls into each store (default: 3)")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes: expected numbers like 10000,1000000, got {args.sizes!r}")
    if not sizes or min(sizes) < 1 or args.crawls < 1:
        parser.error("--sizes and --crawls must be positive")
    summary = run(sizes, args.lookups, crawls=args.crawls)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
