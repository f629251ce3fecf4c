"""``make bench`` / ``python -m bench``: run newsmon's benchmarks, print a table, write ``bench-results.json``.

Every figure is a ratio to a baseline measured in the same run, the median of
several repeats: the shared 2-core machines newsmon is built on drift by up to 2x
between runs, and other jobs use the cores too (the 1-minute load average is
recorded next to each measurement). The benchmarks, one module each:

  throughput  1. whole crawl pipeline vs. extraction alone (bench.pipeline_throughput)
  dedupe      2. near-duplicate lookup at 10k/100k/1M signatures, crawl RSS and
                 start-up against the 1M store (bench.dedupe_scale, bench.dedupe_lookup)
  recrawl     3. requests of a second crawl of an unchanged site (bench.recrawl)
  query       4. search/digest latency on a 100k-article store, CLI start-up
                 (bench.query_latency)
  relevance   5. classifying 10,000 items vs. extracting as many pages
                 (bench.relevance_speed)

The default run takes 8-10 minutes on 2 cores; --quick runs everything small
(about 2 minutes) to check that the benchmarks work, not to quote.

Examples:
  python -m bench                              everything, default sizes
  python -m bench --only throughput --repeats 5
  python -m bench --only dedupe,query --query-articles 20000
  python -m bench --quick --output /tmp/bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.measure import ROOT, load_average

BENCHMARKS = ("throughput", "dedupe", "recrawl", "query", "relevance")
QUICK = {"scale": 20, "repeats": 1, "baseline_pages": 150, "dedupe_sizes": "10000,100000", "lookups": 100,
         "query_articles": 20_000, "query_rounds": 2, "recrawl_scale": 3, "relevance_items": 2_000}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes everywhere (a smoke test, ~2 minutes)")
    parser.add_argument("--output", default=str(ROOT / "bench-results.json"),
                        help="where to write the JSON results (default: bench-results.json in the project)")
    size = parser.add_argument_group("sizes (defaults: the issue's sizes)")
    size.add_argument("--scale", type=int, default=100, help="throughput: replay site scale (100: 2,406 pages)")
    size.add_argument("--repeats", type=int, default=3, help="throughput and relevance: repeats (default: 3)")
    size.add_argument("--weights", default="demo,real", help="throughput: page weights, demo and/or real")
    size.add_argument("--baseline-pages", type=int, default=400,
                      help="throughput: pages in the extraction-only sample (default: 400)")
    size.add_argument("--dedupe-sizes", default="10000,100000,1000000", help="dedupe: store sizes in signatures")
    size.add_argument("--lookups", type=int, default=300, help="dedupe: queries of each kind (default: 300)")
    size.add_argument("--query-articles", type=int, default=100_000, help="query: store size (default: 100000)")
    size.add_argument("--query-rounds", type=int, default=5, help="query: rounds of every command (default: 5)")
    size.add_argument("--recrawl-scale", type=int, default=10, help="recrawl: demo site scale (default: 10)")
    size.add_argument("--relevance-items", type=int, default=10_000, help="relevance: items (default: 10000)")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in args.only if name not in BENCHMARKS]
    if unknown or not args.only:
        parser.error(f"--only: unknown benchmark {', '.join(unknown) or '(none)'}; choose from {', '.join(BENCHMARKS)}")
    if args.quick:
        for key, value in QUICK.items():
            if getattr(args, key) == parser.get_default(key):
                setattr(args, key, value)
    try:
        args.dedupe_sizes = sorted(int(s.replace("_", "")) for s in args.dedupe_sizes.split(",") if s.strip())
    except ValueError:
        parser.error(f"--dedupe-sizes: expected numbers like 10000,1000000, got {args.dedupe_sizes!r}")
    args.weights = [w.strip() for w in args.weights.split(",") if w.strip()]
    if not set(args.weights) <= {"demo", "real"} or not args.weights:
        parser.error("--weights: choose demo, real or both")
    numbers = ("scale", "repeats", "baseline_pages", "lookups", "query_articles", "query_rounds", "recrawl_scale",
               "relevance_items")
    if any(getattr(args, key) < 1 for key in numbers) or not args.dedupe_sizes or min(args.dedupe_sizes) < 1:
        parser.error("sizes, repeats and rounds must be positive")
    return args


def run_benchmark(name: str, args: argparse.Namespace) -> dict:
    if name == "throughput":
        from bench import pipeline_throughput

        return pipeline_throughput.run(args.weights, args.scale, args.repeats, args.baseline_pages)
    if name == "dedupe":
        from bench import dedupe_scale

        return dedupe_scale.run(args.dedupe_sizes, args.lookups)
    if name == "recrawl":
        from bench import recrawl

        return recrawl.run(args.recrawl_scale)
    if name == "query":
        from bench import query_latency

        return query_latency.run(args.query_articles, args.query_rounds)
    from bench import relevance_speed

    return relevance_speed.run(args.relevance_items, repeats=args.repeats)


def summary_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(measurement, result, goal, verdict) rows of the final table."""
    rows = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    if "throughput" in results:
        for weight, r in results["throughput"]["weights"].items():
            rows.append((f"crawl rate / trafilatura.extract rate ({weight} pages, {r['page_kb_median']:.0f} KB)",
                         f"{r['ratio_end_to_end']:.2f}x ({r['rate_end_to_end']:.0f} vs {r['trafilatura_rate']:.0f} "
                         f"pages/s; steady {r['ratio_steady']:.2f}x)", "≥ 0.8x", verdict(r["ratio_end_to_end"] >= 0.8)))
            rows.append((f"crawl rate / extract_article rate ({weight} pages)",
                         f"{r['ratio_end_to_end_vs_extract_article']:.2f}x", "(newsmon's extractor)", ""))
    if "dedupe" in results:
        d = results["dedupe"]
        largest = d["largest"]
        rows.append((f"dedupe lookup at {largest:,} / at {min(d['lookup']['sizes']):,} signatures",
                     f"{d['lookup_ratio_at_largest']:.2f}x", "≤ 2x", verdict(d["lookup_ratio_at_largest"] <= 2)))
        rows.append((f"crawl process peak RSS, store of {largest:,}", f"{d['crawl_rss_mb_at_largest']:.0f} MB",
                     "< 500 MB", verdict(d["crawl_rss_mb_at_largest"] < 500)))
        rows.append((f"crawl start-up, store of {largest:,} / empty store",
                     f"{d['crawl_startup_ratio']:.2f}x ({d['crawl']['largest']['startup_s']:.2f} s)", "flat", ""))
    if "recrawl" in results:
        r = results["recrawl"]["second"]
        rows.append(("second crawl of an unchanged site",
                     f"{r['requests']} requests: {r['entry_points_304']}/{r['entry_points']} entry points 304, "
                     f"{r['article_fetches']} articles", "entry points only, 0 articles",
                     verdict(results["recrawl"]["goal_met"])))
    if "query" in results:
        q = results["query"]["commands"]
        cli = q["newsmon --help"]
        rows.append(("cold `newsmon --help` / `python -c pass`", f"{cli['vs_python']:.1f}x ({cli['median_s'] * 1000:.0f} ms)",
                     "", ""))
        for label, r in q.items():
            if label.startswith(("search", "digest")):
                rows.append((f"`{label}` ({results['query']['store']['articles']:,} articles)",
                             f"{r['median_s'] * 1000:.0f} ms = {r['vs_cli_start']:.1f}x `newsmon --help`", "", ""))
    if "relevance" in results:
        r = results["relevance"]
        rows.append((f"classify {r['items']:,} items / extract as many pages",
                     f"{r['ratio_demo']:.3f}x (demo pages), {r['ratio_real']:.3f}x (real weight)", "", ""))
    return rows


def format_summary(rows) -> str:
    width = max(len(r[0]) for r in rows)
    result_width = max(len(r[1]) for r in rows)
    lines = [f"{'measurement':<{width}}  {'result':<{result_width}}  goal"]
    for what, result, goal, verdict in rows:
        lines.append(f"{what:<{width}}  {result:<{result_width}}  {goal}{f' — {verdict}' if verdict else ''}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    meta = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_at_start": load_average(),
        "quick": args.quick,
    }
    results, failures = {}, {}
    for name in args.only:
        print(f"\n=== {name} ===", flush=True)
        began = time.perf_counter()
        try:
            results[name] = run_benchmark(name, args)
        except Exception as exc:  # one broken benchmark should not cost the others' numbers
            failures[name] = f"{type(exc).__name__}: {exc}"
            print(f"{name} failed: {failures[name]}", file=sys.stderr, flush=True)
        else:
            results[name]["duration_s"] = time.perf_counter() - began
    meta.update({"duration_s": time.perf_counter() - started, "load_at_end": load_average()})
    output = Path(args.output)
    output.write_text(json.dumps({"meta": meta, "results": results, "failures": failures}, indent=2, default=str)
                      + "\n", encoding="utf-8")
    rows = summary_rows(results)
    print("\n=== summary ===")
    if rows:
        print(format_summary(rows))
    print(f"\n{len(results)} benchmark(s) in {meta['duration_s'] / 60:.1f} min on {meta['cpu_count']} cores "
          f"(load {meta['load_at_start']} at start, {meta['load_at_end']} at end); results in {output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
