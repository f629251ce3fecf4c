"""Benchmark 5: relevance classification of 10,000 items vs. extraction of as many pages
(run: ``python -m bench.relevance_speed``).

Items are (title, text, language) as the relevance pipeline receives them: the
demo site's articles at ``scale=100`` (on- and off-topic, Vietnamese, English,
Russian), each item a base article's title with a shuffled selection of its
paragraphs, so no two items are the same. Each repeat classifies all items with
``crawler.relevance.score_article`` (the shipped profile) and extracts a sample of
the same articles' pages with ``crawler.extract.extract_article``, at both page
weights of :mod:`bench.replay_site`, one after the other in this process. The
ratio is relevance time per item / extraction time per page (the extraction time
for 10,000 pages is the sample's per-page time times 10,000), median of repeats.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from bench.measure import load_average, median
from bench.replay_site import WEIGHTS, ReplaySite

DEFAULT_ITEMS = 10_000
DEFAULT_PAGES = 300
DEFAULT_REPEATS = 3


def make_items(site: ReplaySite, count: int, seed: int = 11) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    bases = [a for a in site.articles if a.blocks]
    items = []
    for n in range(count):
        base = bases[n % len(bases)]
        paragraphs = [b.text for b in base.blocks]
        rng.shuffle(paragraphs)
        items.append((base.title, "\n".join(paragraphs[: max(2, len(paragraphs) - rng.randrange(3))]), base.lang))
    return items


def classify_seconds(items) -> tuple[float, int]:
    from crawler.relevance import score_article

    relevant = 0
    started = time.perf_counter()
    for title, text, lang in items:
        relevant += score_article(None, title, text, lang).relevant
    return time.perf_counter() - started, relevant


def extract_seconds_per_page(site: ReplaySite, pages: int) -> float:
    from crawler.extract import extract_article

    articles = list(site.articles)[:: max(1, len(site.articles) // pages)][:pages]
    total = 0.0
    for article in articles:
        html = site.article_page(article)
        started = time.perf_counter()
        extract_article(html, article.url, utc_offset=site.utc_offset(article), encoding=site.charset(article))
        total += time.perf_counter() - started
    return total / len(articles)


def run(items: int = DEFAULT_ITEMS, pages: int = DEFAULT_PAGES, repeats: int = DEFAULT_REPEATS, echo=print) -> dict:
    sites = {weight: ReplaySite(scale=100, weight=weight) for weight in WEIGHTS}  # pages rendered, never served
    try:
        data = make_items(sites["demo"], items)
        from crawler.relevance import score_article

        title, text, lang = data[0]
        score_article(None, title, text, lang)  # compile the profile outside the timing
        repeats_ = []
        for _ in range(repeats):
            load = load_average()
            seconds, relevant = classify_seconds(data)
            repeat = {"relevance_s": seconds, "relevance_ms_per_item": seconds / items * 1000, "relevant": relevant,
                      "load_before": load}
            for weight, site in sites.items():
                per_page = extract_seconds_per_page(site, pages)
                repeat[f"extract_ms_per_page_{weight}"] = per_page * 1000
                repeat[f"ratio_{weight}"] = (seconds / items) / per_page
            repeats_.append(repeat)
    finally:
        for site in sites.values():
            site.stop()
    summary = {key: median(r[key] for r in repeats_) for key in repeats_[0]}
    summary.update({"items": items, "pages_sampled": pages, "repeats": repeats_})
    echo(table(summary))
    return summary


def table(s: dict) -> str:
    lines = [f"relevance classification of {s['items']:,} items vs extraction of as many pages "
             f"(median of {len(s['repeats'])} repeats; extraction from a {s['pages_sampled']}-page sample)",
             f"{'':>28} {'per item':>10} {'for 10,000':>11} {'ratio':>7}",
             f"{'score_article':>28} {s['relevance_ms_per_item']:>7.3f} ms {s['relevance_ms_per_item'] * 10:>9.1f} s "
             f"{'':>7}"]
    for weight in WEIGHTS:
        per_page = s[f"extract_ms_per_page_{weight}"]
        lines.append(f"{f'extract_article ({weight} pages)':>28} {per_page:>7.3f} ms {per_page * 10:>9.1f} s "
                     f"{s[f'ratio_{weight}']:>6.3f}x")
    lines.append(f"classifying costs {s['ratio_demo'] * 100:.0f}% of extracting a demo page, "
                 f"{s['ratio_real'] * 100:.0f}% of a real-weight page ({s['relevant']:.0f} of {s['items']:,} "
                 f"items on topic)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.relevance_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=DEFAULT_ITEMS, help="items to classify (default: %(default)s)")
    parser.add_argument("--pages", type=int, default=DEFAULT_PAGES, help="pages in the extraction sample")
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, help="repeats (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="also print the result as JSON")
    args = parser.parse_args(argv)
    if min(args.items, args.pages, args.repeats) < 1:
        parser.error("--items, --pages and --repeats must be positive")
    summary = run(args.items, args.pages, args.repeats)
    if args.json:
        print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
