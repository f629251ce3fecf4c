"""Topic relevance: is an article about the configured topic, how strongly, and why.

Pure functions on plain strings (no Scrapy, no SQLite), used by the crawl's
relevance pipeline, its pre-fetch title gate and ``newsmon classify``:

* :func:`parse_profile` — ``[relevance]`` of ``newsmon.toml`` → :class:`TopicProfile`
  (None: the shipped Vietnam–Russia defence profile);
* :func:`score_article` — title + text → :class:`RelevanceResult` (relevant, score,
  matched terms per group, reason, language);
* :func:`title_is_off_topic` — the conservative pre-fetch gate on a feed title.

The parts: :mod:`.folding` (diacritics and case), :mod:`.matching` (terms, names,
excludes), :mod:`.profile` (the profile and its checks), :mod:`.scoring` (the decision).
"""

from crawler.relevance.profile import ConceptGroup, ExcludeRule, TopicProfile, default_profile, parse_profile
from crawler.relevance.scoring import RelevanceResult, score_article, title_is_off_topic

__all__ = [
    "ConceptGroup",
    "ExcludeRule",
    "RelevanceResult",
    "TopicProfile",
    "default_profile",
    "parse_profile",
    "score_article",
    "title_is_off_topic",
]
