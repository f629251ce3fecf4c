"""Benchmark 1: whole-pipeline crawl rate vs. extraction alone (run: ``python -m bench.pipeline_throughput``).

For each page weight (see :mod:`bench.replay_site`: the demo site's light pages, and
the same articles inside real news-page chrome) it serves a replay site of
``scale=100`` (2,406 article pages) on 127.0.0.1 and, in each repeat, measures:

- the crawl: ``newsmon crawl`` in a child process (as users and the scheduler run
  it) into a fresh store: Scrapy → extract (worker processes) → relevance →
  dedupe → SQLite. Its page rate is article pages / wall time of the process
  ("end to end", including its ~1 s start-up and the entry points) and article
  pages / time from the first article request to the end ("steady");
- once per weight, Scrapy alone (:mod:`bench.scrapy_floor`): the same settings
  fetching the same article pages with no pipelines and no store, the ceiling of
  any crawl that runs Scrapy in one process;
- the baselines, in this process, over a sample of the same pages (the exact bytes
  the server sends): ``trafilatura.extract(html)`` alone (the issue's baseline) and
  newsmon's ``extract_article`` alone, one page after another on one core.

The goal (issue 9): the crawl's page rate ≥ 0.8x the extraction-only rate. Ratios
are taken within a repeat (crawl and baselines run back to back) and the median
of the repeats is reported. The crawl allows 8 concurrent requests to the
replay host (``[crawl] concurrency_per_domain = 8``, no delay): the six outlets
share one host here, where a real crawl spreads them over six domains, and
politeness waits are not pipeline cost.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from bench.measure import load_average, median, newsmon_command, run_timed
from bench.replay_site import WEIGHTS, ReplaySite

DEFAULT_SCALE = 100
DEFAULT_REPEATS = 3
DEFAULT_BASELINE_PAGES = 600
CONCURRENCY = 8
GOAL = 0.8


def extraction_rates(site: ReplaySite, pages: int) -> dict:
    """Pages per second of ``trafilatura.extract`` and of ``extract_article`` over a spread-out sample."""
    import trafilatura

    from crawler.extract import extract_article

    articles = list(site.articles)
    step = max(1, len(articles) // pages)
    sample = articles[::step][:pages]
    plain = ours = 0.0
    for article in sample:
        html = site.article_page(article)
        started = time.perf_counter()
        trafilatura.extract(html)
        middle = time.perf_counter()
        extract_article(html, article.url, utc_offset=site.utc_offset(article), encoding=site.charset(article))
        ours += time.perf_counter() - middle
        plain += middle - started
    return {"pages": len(sample), "trafilatura_rate": len(sample) / plain, "extract_article_rate": len(sample) / ours}


def crawl_rate(site: ReplaySite, workdir: Path, extra: dict | None = None) -> dict:
    """Crawl ``site`` once with ``newsmon crawl`` into a fresh store; the page rates and what it did."""
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "news.db"
    for stale in workdir.glob("news.db*"):
        stale.unlink()
    config = workdir / "newsmon.toml"
    settings = {"concurrency_per_domain": CONCURRENCY, "delay": "0s", **(extra or {})}
    config.write_text(site.config_toml(db, **settings), encoding="utf-8")
    site.clear_request_log()
    started = time.monotonic()
    wall, result, leftover = run_timed(newsmon_command("crawl", config=config))
    ended = started + wall
    if result.returncode != 0:
        raise RuntimeError(f"newsmon crawl failed ({result.returncode}):\n{result.stderr[-3000:]}")
    log = site.request_log
    articles = [t for t, method, path, status in log if method == "GET" and status == 200 and site.is_article(path)]
    if not articles:
        raise RuntimeError(f"the crawl fetched no article page:\n{result.stderr[-3000:]}")
    conn = sqlite3.connect(db)
    try:
        stored, = conn.execute("SELECT count(*) FROM articles").fetchone()
        offtopic, = conn.execute("SELECT count(*) FROM offtopic").fetchone()
        duplicates, = conn.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL").fetchone()
        errors, = conn.execute("SELECT errors FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return {
        "article_pages": len(articles),
        "requests": len(log),
        "wall_s": wall,
        "startup_s": articles[0] - started,
        "rate_end_to_end": len(articles) / wall,
        "rate_steady": len(articles) / (ended - articles[0]),
        "stored": stored,
        "offtopic": offtopic,
        "duplicates": duplicates,
        "errors": errors,
        "leftover_processes": leftover,
    }


def scrapy_floor_rate(site: ReplaySite, workdir: Path) -> dict:
    """Scrapy alone (``bench.scrapy_floor``) fetching every article page of ``site`` with the crawl's settings."""
    config = workdir / "newsmon.toml"  # written by crawl_rate
    urls = workdir / "article-urls.txt"
    urls.write_text("\n".join(a.url for a in site.articles), encoding="utf-8")
    site.clear_request_log()
    started = time.monotonic()
    wall, result, leftover = run_timed([sys.executable, "-m", "bench.scrapy_floor", str(config), str(urls)])
    if result.returncode != 0:
        raise RuntimeError(f"bench.scrapy_floor failed ({result.returncode}):\n{result.stderr[-3000:]}")
    articles = [t for t, method, path, status in site.request_log
                if method == "GET" and status == 200 and site.is_article(path)]
    return {"floor_pages": len(articles), "floor_rate_end_to_end": len(articles) / wall,
            "floor_rate_steady": len(articles) / (started + wall - articles[0])}


def run(weights=WEIGHTS, scale: int = DEFAULT_SCALE, repeats: int = DEFAULT_REPEATS,
        baseline_pages: int = DEFAULT_BASELINE_PAGES, workdir: str | None = None, echo=print) -> dict:
    """Measure every weight in ``weights``; print a table; return the numbers."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-crawl-", dir=workdir) as tmp:
        for weight in weights:
            with ReplaySite(scale=scale, weight=weight) as site:
                repeats_ = []
                for n in range(repeats):
                    load_before = load_average()
                    if n % 2 == 0:  # alternate the order: drift affects both sides alike
                        baseline = extraction_rates(site, baseline_pages)
                        crawl = crawl_rate(site, Path(tmp) / weight)
                    else:
                        crawl = crawl_rate(site, Path(tmp) / weight)
                        baseline = extraction_rates(site, baseline_pages)
                    if n == repeats // 2:  # once per weight, beside the middle repeat's baselines
                        crawl.update(scrapy_floor_rate(site, Path(tmp) / weight))
                    repeat = {**baseline, **crawl, "load_before": load_before, "load_after": load_average()}
                    if "floor_rate_end_to_end" in crawl:
                        repeat["floor_ratio"] = crawl["floor_rate_end_to_end"] / baseline["trafilatura_rate"]
                    for kind in ("end_to_end", "steady"):
                        repeat[f"ratio_{kind}"] = crawl[f"rate_{kind}"] / baseline["trafilatura_rate"]
                        repeat[f"ratio_{kind}_vs_extract_article"] = crawl[f"rate_{kind}"] / baseline["extract_article_rate"]
                    echo(f"  {weight:>4} repeat {n + 1}/{repeats}: crawl {crawl['article_pages']} pages "
                         f"{crawl['rate_end_to_end']:.1f}/s end to end ({crawl['rate_steady']:.1f}/s steady), "
                         f"trafilatura.extract {baseline['trafilatura_rate']:.1f}/s, extract_article "
                         f"{baseline['extract_article_rate']:.1f}/s → {repeat['ratio_end_to_end']:.2f}x "
                         f"(load {load_before:.1f}→{repeat['load_after']:.1f})")
                    repeats_.append(repeat)
                keys = {key for r in repeats_ for key in r if key != "pages"}
                summary = {key: median(r.get(key) for r in repeats_) for key in sorted(keys)}
                summary["page_kb_median"] = _median_page_kb(site)
                summary["repeats"] = repeats_
                results[weight] = summary
    echo(table(results))
    return {"weights": results, "goal": GOAL, "scale": scale, "concurrency_per_domain": CONCURRENCY}


def _median_page_kb(site: ReplaySite) -> float:
    articles = list(site.articles)[::50]
    return median(len(site.article_page(a)) / 1024 for a in articles)


def table(results: dict) -> str:
    lines = ["pipeline throughput: newsmon crawl (article pages/s) vs extraction alone on one core "
             "(median of repeats; x = crawl rate / trafilatura.extract rate, goal ≥ 0.8x)",
             f"{'pages':>6} {'weight':>12} {'crawl e2e':>10} {'steady':>8} {'traf.extract':>13} {'extract_article':>16} "
             f"{'ratio e2e':>10} {'steady':>7} {'vs ours':>8} {'Scrapy alone':>13}"]
    for weight, r in results.items():
        lines.append(
            f"{r['article_pages']:>6.0f} {weight + ' ' + format(r['page_kb_median'], '.0f') + ' KB':>12} "
            f"{r['rate_end_to_end']:>8.1f}/s {r['rate_steady']:>6.1f}/s {r['trafilatura_rate']:>11.1f}/s "
            f"{r['extract_article_rate']:>14.1f}/s {r['ratio_end_to_end']:>9.2f}x {r['ratio_steady']:>6.2f}x "
            f"{r['ratio_end_to_end_vs_extract_article']:>7.2f}x "
            f"{r.get('floor_rate_end_to_end', float('nan')):>6.0f}/s {r.get('floor_ratio', float('nan')):.2f}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline_throughput", description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=",".join(WEIGHTS), help="page weights: demo, real (default: both)")
    parser.add_argument("--scale", type=int, default=DEFAULT_SCALE, help="replay site scale (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, help="repeats (default: %(default)s)")
    parser.add_argument("--baseline-pages", type=int, default=DEFAULT_BASELINE_PAGES,
                        help="pages in the extraction-only sample (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    args = parser.parse_args(argv)
    weights = [w.strip() for w in args.weights.split(",") if w.strip()]
    if not weights or any(w not in WEIGHTS for w in weights):
        parser.error(f"--weights: choose from {', '.join(WEIGHTS)}")
    summary = run(weights, args.scale, args.repeats, args.baseline_pages)
    if args.json:
        print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
