"""Benchmark 3: what a second crawl of an unchanged site sends (run: ``python -m bench.recrawl``).

Serves the bundled demo site (``serve_demo_site(scale=...)``, which answers
conditional GETs with 304), crawls it with its own config (default politeness),
then crawls it again and sorts the second crawl's requests: entry points
(feeds, news sitemaps, listing pages), robots.txt, article pages, anything else.

Goal (issue 9): only the entry points are requested, answered 304, and no article
page is fetched. The first crawl's wall time is the baseline for the second's.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from bench.measure import load_average, newsmon_command, run_timed

DEFAULT_SCALE = 10


def _classify(site, log) -> dict:
    """Sort requests: configured entry points, later listing pages, robots.txt, article pages, other."""
    entry_targets, listing_prefixes = set(), []
    for outlet in site.outlets:
        for url in (outlet.feed_url, outlet.sitemap_url, outlet.listing_url):
            parts = urlsplit(url)
            entry_targets.add(parts.path + (f"?{parts.query}" if parts.query else ""))
        listing_prefixes.append(urlsplit(outlet.listing_url).path)
    article_paths = {article.path for article in site.articles}
    counts = {"requests": len(log), "entry_points": 0, "entry_points_304": 0, "listing_pages": 0, "robots_txt": 0,
              "article_fetches": 0, "other": 0, "other_paths": []}
    for method, target, status in log:
        path = urlsplit(target).path
        if target in entry_targets:
            counts["entry_points"] += 1
            counts["entry_points_304"] += status == 304
        elif path == "/robots.txt":
            counts["robots_txt"] += 1
        elif path in article_paths:
            counts["article_fetches"] += method == "GET"
        elif any(path.startswith(prefix) for prefix in listing_prefixes):
            counts["listing_pages"] += 1  # page 2, 3, ... of a listing, or a section listing
        else:
            counts["other"] += 1
            counts["other_paths"].append(f"{method} {target} {status}")
    counts["entry_points_configured"] = len(entry_targets)
    return counts


def run(scale: int = DEFAULT_SCALE, echo=print) -> dict:
    """Crawl the demo site twice; return what each crawl requested."""
    from crawler.demo_site.server import serve_demo_site

    with tempfile.TemporaryDirectory(prefix="newsmon-bench-recrawl-") as tmp, serve_demo_site(scale=scale) as site:
        config = Path(tmp) / "newsmon.toml"
        config.write_text(site.config_toml(Path(tmp) / "news.db"), encoding="utf-8")
        crawls = []
        for n in (1, 2):
            site.clear_request_log()
            load = load_average()
            wall, result, leftover = run_timed(newsmon_command("crawl", config=config))
            if result.returncode != 0:
                raise RuntimeError(f"crawl {n} failed ({result.returncode}):\n{result.stderr[-3000:]}")
            crawls.append({**_classify(site, site.request_log), "wall_s": wall, "load_before": load,
                           "leftover_processes": leftover})
    first, second = crawls
    summary = {
        "scale": scale,
        "articles_on_site": len(site.articles),
        "first": first,
        "second": second,
        "second_vs_first_requests": second["requests"] / first["requests"],
        "second_vs_first_wall": second["wall_s"] / first["wall_s"],
        "goal_met": second["article_fetches"] == 0 and second["other"] == 0 and second["listing_pages"] == 0
        and second["entry_points_304"] == second["entry_points"],
    }
    echo(table(summary))
    return summary


def table(s: dict) -> str:
    first, second = s["first"], s["second"]
    verdict = "goal met" if s["goal_met"] else "GOAL MISSED"
    return "\n".join([
        f"incremental recrawl of an unchanged site ({s['articles_on_site']} articles, demo site scale={s['scale']})",
        f"{'crawl':>7} {'requests':>9} {'entry points (304)':>19} {'listing p.2+':>13} {'robots.txt':>11} "
        f"{'articles':>9} {'other':>6} {'wall':>7}",
        *(f"{name:>7} {c['requests']:>9} {c['entry_points']:>11} ({c['entry_points_304']:>3}) {c['listing_pages']:>13} "
          f"{c['robots_txt']:>11} {c['article_fetches']:>9} {c['other']:>6} {c['wall_s']:>5.1f} s"
          for name, c in (("first", first),
                                                                                            ("second", second))),
        f"second crawl: {second['requests']} requests ({s['second_vs_first_requests']:.3f}x the first), "
        f"{second['article_fetches']} article fetches, {second['entry_points_304']}/{second['entry_points']} entry "
        f"points answered 304, {s['second_vs_first_wall']:.2f}x the first crawl's time ({verdict})",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.recrawl", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=DEFAULT_SCALE, help="demo site scale (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be at least 1")
    summary = run(args.scale)
    if args.json:
        print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
