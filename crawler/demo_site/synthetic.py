"""Synthetic articles for benchmarks: many more pages from the same hand-written texts.

``scale=N`` gives every outlet ``4 * (N - 1)`` extra articles (about 2,400 in all at
N=100). Each one takes its title from a base article of the outlet's language,
numbered so that titles stay unique, and mixes 3 to 6 paragraphs drawn from up to
three base articles of the same relevance (so an on-topic synthetic article reads
on topic), shuffled, with every number that is not a year shifted. Everything is
derived from a seeded ``random.Random``: the same scale gives the same site.
Bodies are built here (they are small); their HTML is rendered only when requested.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

from crawler.demo_site.model import Block, DemoArticle, Outlet

ARTICLES_PER_OUTLET_PER_STEP = 4
MAX_AGE = timedelta(days=12)  # inside the default 14-day crawl window
TITLE_PREFIXES = {
    "vi": ("Bản tin số {n}", "Điểm tin số {n}", "Cập nhật lần {n}"),
    "en": ("Update {n}", "Briefing {n}", "Roundup {n}"),
    "ru": ("Выпуск {n}", "Обзор {n}", "Дайджест {n}"),
}
_NUMBER = re.compile(r"\d+")


def synthetic_articles(
    outlets: tuple[Outlet, ...],
    base: list[DemoArticle],
    now: datetime,
    scale: int,
    first_numbers: dict[str, int],
) -> list[DemoArticle]:
    """The synthetic articles for ``scale`` (none at scale 1)."""
    per_outlet = ARTICLES_PER_OUTLET_PER_STEP * (scale - 1)
    if per_outlet <= 0:
        return []
    originals = [article for article in base if article.kind not in ("copy", "old")]
    serial = 0
    articles = []
    for outlet in outlets:
        same_language = [article for article in originals if article.lang == outlet.lang]
        for index in range(per_outlet):
            serial += 1
            rng = random.Random(f"{outlet.name}/{index}")
            relevant = index % 3 == 0
            pool = [article for article in same_language if article.relevant == relevant] or same_language
            articles.append(
                _variant(outlet, rng, pool, relevant, serial, first_numbers[outlet.name] + index, now)
            )
    return articles


def _variant(
    outlet: Outlet,
    rng: random.Random,
    pool: list[DemoArticle],
    relevant: bool,
    serial: int,
    number: int,
    now: datetime,
) -> DemoArticle:
    sources = rng.sample(pool, k=min(3, len(pool)))
    template = sources[0]
    paragraphs = [paragraph for source in sources for paragraph in source.paragraphs]
    picked = rng.sample(paragraphs, k=min(len(paragraphs), rng.randint(3, 6)))
    shift = rng.randint(1, 9)
    blocks = tuple(Block("p", _shift_numbers(paragraph, shift)) for paragraph in picked)
    prefix = rng.choice(TITLE_PREFIXES[outlet.lang]).format(n=serial)
    title = f"{prefix}: {template.title}"
    section_keys = [section.key for section in outlet.style.sections]
    section = template.section if template.section in section_keys else section_keys[0]
    published = now - timedelta(minutes=rng.randint(30, int(MAX_AGE.total_seconds() // 60)))
    path = outlet.article_path(section, title, number)
    article_id = f"syn-{serial:05d}"
    return DemoArticle(
        id=article_id,
        outlet=outlet.name,
        lang=outlet.lang,
        kind="synthetic",
        story=article_id,
        copy_of=None,
        relevant=relevant,
        title=title,
        published=published,
        url=outlet.base_url + path,
        path=path,
        section=section,
        author=template.author,
        credit=None,
        photo=template.photo,
        blocks=blocks,
    )


def _shift_numbers(text: str, shift: int) -> str:
    """Add ``shift`` to every number in ``text`` except years (1900–2100)."""

    def shifted(match: re.Match[str]) -> str:
        value = int(match.group())
        return match.group() if 1900 <= value <= 2100 else str(value + shift)

    return _NUMBER.sub(shifted, text)
