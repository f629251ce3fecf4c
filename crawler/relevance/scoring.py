"""Decide whether one article is on topic, with a score and the reason a user can read.

:func:`score_article` is called once per extracted page, :func:`title_is_off_topic`
once per feed entry of a source with ``prefilter = "title"``. Both are pure and
cheap: the profile's terms were compiled when the config was read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.relevance.folding import nfc
from crawler.relevance.matching import AGAINST, PROXY, FieldMatches, find_terms
from crawler.relevance.profile import TopicProfile, default_profile

_NOT_TOGETHER_FACTOR = 0.5
_DETECT_CHARS = 2000


@dataclass(frozen=True)
class RelevanceResult:
    """The decision on one article: what the store keeps and the user sees as "why"."""

    relevant: bool
    score: float  # 0..1, relevant exactly when score >= the profile's threshold
    terms: dict[str, list[str]] = field(default_factory=dict)  # group -> matched terms, as in the profile
    reason: str = ""
    lang: str | None = None


def _language(title: str, text: str, lang: str | None) -> str | None:
    """The given language tag ("vi-VN" → "vi"), else the detected one, else None."""
    if lang and lang.strip():
        return lang.strip().split("-")[0].split("_")[0].lower()
    try:
        from crawler.language import detect_language
    except ImportError:  # pragma: no cover - the module ships with newsmon
        return None
    return detect_language(f"{title}\n{text[:_DETECT_CHARS]}")


def score_article(profile: TopicProfile | None, title: str | None, text: str, lang: str | None = None
                  ) -> RelevanceResult:
    """Score an article against ``profile`` (None: the shipped default).

    ``lang`` ("vi", "en", "ru"; "vi-VN" is read as "vi") selects the terms to look
    for; when it is None the language is detected, and when that fails (or the
    profile has no terms for it) every language's terms are used. Matches in the
    title count ``title_weight`` times; the required groups must meet in one
    passage: the headline with the first body sentence, or ``window``
    consecutive body sentences.

    >>> r = score_article(None, "Hợp tác quốc phòng Việt - Nga", "")
    >>> r.relevant, r.terms["russia"], r.lang
    (True, ['Nga'], 'vi')
    >>> score_article(None, "Trường mầm non Nga Tiến", "Bộ đội Việt Nam giúp trường.").reason
    'missing group: russia; excluded: Nga Tiến (place name)'
    """
    profile = profile or default_profile()
    title = nfc(title or "")
    text = nfc(text or "")
    lang = _language(title, text, lang)
    index = profile.index
    key = lang if lang in index.languages else None
    in_title = find_terms(index, title, key, in_title=True)
    in_body = find_terms(index, text, key, in_title=False)
    hits = in_title.hits + in_body.hits

    evidence = {g.name: 0.0 for g in profile.groups}
    against: dict[str, list[str]] = {}
    terms: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for hit in hits:
        entry = hit.entry
        weight = profile.title_weight if hit.in_title else 1.0
        if entry.kind == AGAINST:
            evidence[entry.group] -= weight
            _add_once(against.setdefault(entry.group, []), entry.term)
            continue
        evidence[entry.group] += weight * (profile.proxy_weight if entry.kind == PROXY else 1.0)
        _add_once(terms.setdefault(entry.group, []), entry.term)
        counts[entry.group] = counts.get(entry.group, 0) + 1

    required = profile.required_groups
    strength = {g: (1.0 - 0.5 ** evidence[g]) if evidence[g] > 0 else 0.0 for g in required}
    score = min(strength.values())
    together = _groups_meet(profile, hits)
    if not together:
        score *= _NOT_TOGETHER_FACTOR
    score = round(score, 3)
    relevant = score >= profile.threshold and score > 0
    reason = _reason(profile, relevant, score, strength, together, counts, against, in_title, in_body)
    ordered = {g.name: terms[g.name] for g in profile.groups if g.name in terms}
    return RelevanceResult(relevant, score, ordered, reason, lang)


def _add_once(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def _groups_meet(profile: TopicProfile, hits) -> bool:
    """Do all required groups occur together in one passage?

    A passage is the headline with the first sentence of the body (the lead
    says what the headline is about), or ``window`` consecutive body sentences.
    A group mentioned only in a later sentence about something else ("India
    flies Su-30s bought from Russia" in a story on Vietnam–India ties) is
    incidental.
    """
    required = set(profile.required_groups)
    by_sentence: dict[int, set[str]] = {}
    headline: set[str] = set()
    for hit in hits:
        if hit.entry.kind == AGAINST:
            continue
        if hit.in_title:
            headline.add(hit.entry.group)
        else:
            by_sentence.setdefault(hit.sentence, set()).add(hit.entry.group)
    if headline | by_sentence.get(0, set()) >= required:
        return True
    for first in by_sentence:
        seen = set()
        for sentence in range(first, first + profile.window):
            seen |= by_sentence.get(sentence, set())
        if seen >= required:
            return True
    return False


def _reason(profile, relevant, score, strength, together, counts, against, in_title: FieldMatches,
            in_body: FieldMatches) -> str:
    if relevant:
        matched = ", ".join(f"{g} ×{counts.get(g, 0)}" for g in profile.required_groups)
        return f"all groups matched: {matched}"
    parts = []
    missing = [g for g, s in strength.items() if s == 0]
    if missing:
        detail = [f"{g} (outweighed by: {', '.join(against[g])})" if g in against and counts.get(g) else g
                  for g in missing]
        parts.append(f"missing group{'s' if len(missing) > 1 else ''}: {', '.join(detail)}")
    elif not together:
        parts.append("the groups never meet in the title or one passage")
    else:
        parts.append(f"score {score} below threshold {profile.threshold}")
    excluded = _unique(f"{text} ({label})" for text, label in in_title.excluded + in_body.excluded)
    if excluded:
        parts.append("excluded: " + ", ".join(excluded[:3]))
    names = _unique(in_title.names + in_body.names)
    if names:
        parts.append("read as a name: " + ", ".join(names[:3]))
    return "; ".join(parts)


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def title_is_off_topic(profile: TopicProfile | None, title: str, keywords: str = "") -> bool:
    """Is a feed entry's title (+ keywords) *clearly* off-topic, so the page need not be fetched?

    Conservative, because a wrong True loses the article for good: terms of every
    language are looked for, ``against`` terms are ignored, and the entry is
    off-topic only when fewer than ``title_min_groups`` required groups match
    (after the name rule and the excludes). An empty title is never off-topic.

    >>> title_is_off_topic(None, "Trường mầm non Nga Tiến: Ngôi nhà thứ 2 của trẻ")
    True
    >>> title_is_off_topic(None, "Việt Nam cấp phép thuốc Pembrolizumab của Nga")
    False
    """
    profile = profile or default_profile()
    title = nfc(title or "")
    if not title.strip():
        return False
    found = find_terms(profile.index, title, None, in_title=True).hits
    if keywords and keywords.strip():
        found += find_terms(profile.index, nfc(keywords), None, in_title=True).hits
    groups = {h.entry.group for h in found if h.entry.kind != AGAINST} & set(profile.required_groups)
    return len(groups) < profile.title_min_groups
