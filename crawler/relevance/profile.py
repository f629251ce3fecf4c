"""The topic profile: what ``[relevance]`` in ``newsmon.toml`` says, checked and compiled.

A profile is a set of named *concept groups* (default: ``vietnam``, ``russia``,
``defence``), each a list of terms per language; an article is on topic when
every required group is found, in the title or together in one passage. The
shipped default (``default_profile.toml`` next to this module) is the
Vietnam–Russia defence profile; a ``[relevance]`` table without ``groups`` keeps
the default's groups and excludes and only changes the numbers, a table with
``groups`` is a new topic of its own. The reference for every key is the
comment block of ``default_profile.toml``.

Everything is checked when the config is read: an unknown key, a term that is
not a string, a stray ``*`` or a regular expression that does not compile is a
``ConfigError`` naming the key, e.g. ``relevance.groups.russia.vi[3]``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from crawler.relevance.matching import AGAINST, EXCLUDE, PROXY, TERM, TermEntry, TermIndex

LANGUAGE_KEYS = ("vi", "en", "ru", "any")  # "any": the term is looked for in every language
_GROUP_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_SETTINGS = {
    # key: (default, type, minimum, maximum)
    "threshold": (0.5, float, 0.0, 1.0),
    "title_weight": (3.0, float, 1.0, 100.0),
    "proxy_weight": (0.5, float, 0.0, 1.0),
    "window": (1, int, 1, 50),
    "title_min_groups": (1, int, 1, 50),
}


@dataclass(frozen=True)
class ConceptGroup:
    """One concept ("russia"): its terms, proxies and counter-terms per language."""

    name: str
    terms: tuple[tuple[str, tuple[str, ...]], ...]  # (language key, terms)
    proxies: tuple[tuple[str, tuple[str, ...]], ...] = ()  # stand-ins that count proxy_weight ("Hanoi")
    against: tuple[tuple[str, tuple[str, ...]], ...] = ()  # other senses of the group's words (sport)
    name_like: tuple[str, ...] = ()  # Vietnamese terms that are also given names / place syllables
    required: bool = True


@dataclass(frozen=True)
class ExcludeRule:
    """Text that is never a term: phrases (matched like terms) and/or a regex on the original text."""

    label: str
    phrases: tuple[str, ...] = ()
    pattern: str | None = None


@dataclass(frozen=True)
class TopicProfile:
    """A checked ``[relevance]`` table; ``index`` is its compiled matcher, built once."""

    groups: tuple[ConceptGroup, ...]
    exclude: tuple[ExcludeRule, ...] = ()
    threshold: float = 0.5
    title_weight: float = 3.0
    proxy_weight: float = 0.5
    window: int = 1
    title_min_groups: int = 1
    index: TermIndex = field(default=None, compare=False, repr=False, hash=False)

    def __post_init__(self):
        if self.index is None:
            object.__setattr__(self, "index", _compile(self))

    @property
    def required_groups(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.groups if g.required)


def _compile(profile: TopicProfile) -> TermIndex:
    entries: dict[TermEntry, None] = {}
    for group in profile.groups:
        for kind, table in ((TERM, group.terms), (PROXY, group.proxies), (AGAINST, group.against)):
            for lang, terms in table:
                for term in terms:
                    name_like = kind != AGAINST and lang in ("vi", "any") and term in group.name_like
                    entries[TermEntry(group.name, term, kind, lang, name_like)] = None
    patterns = []
    for rule in profile.exclude:
        for phrase in rule.phrases:
            entries[TermEntry(rule.label, phrase, EXCLUDE, "any")] = None
        if rule.pattern is not None:
            patterns.append((re.compile(rule.pattern), rule.label))
    return TermIndex(list(entries), patterns)


# --- parsing -----------------------------------------------------------------


def _error(message: str):
    from crawler.config import ConfigError  # crawler.config imports this module at call time

    return ConfigError(message)


def _check_keys(table: Any, allowed: set[str], where: str) -> dict:
    if not isinstance(table, dict):
        raise _error(f"{where}: expected a table")
    for key in table:
        if key not in allowed:
            raise _error(f"{where}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})")
    return table


def _check_term(term: Any, where: str) -> str:
    if not isinstance(term, str) or not term.strip():
        raise _error(f"{where}: expected a non-empty string, got {term!r}")
    term = " ".join(term.split())
    if term.startswith("*") or re.search(r"\*\S", term):
        raise _error(f"{where}: {term!r}: '*' may only end a word (a stem such as \"Росси*\")")
    for stem in re.findall(r"(\S+)\*", term):
        if len(re.findall(r"\w", stem)) < 3:
            raise _error(f"{where}: {term!r}: a stem needs at least 3 letters before '*'")
    if len(re.findall(r"\w", term)) < 2:
        raise _error(f"{where}: {term!r}: a term needs at least 2 letters or digits")
    return term


def _term_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _error(f"{where}: expected a list of strings")
    return tuple(_check_term(term, f"{where}[{i}]") for i, term in enumerate(value))


def _per_language(table: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    _check_keys(table, set(LANGUAGE_KEYS), where)
    return tuple((lang, _term_list(table[lang], f"{where}.{lang}")) for lang in LANGUAGE_KEYS if lang in table)


def _parse_group(name: str, table: Any, where: str) -> ConceptGroup:
    if not _GROUP_NAME.match(name):
        raise _error(f"{where}: group names are lower-case words such as \"defence\", got {name!r}")
    _check_keys(table, {*LANGUAGE_KEYS, "proxies", "against", "name_like", "required"}, where)
    terms = _per_language({k: v for k, v in table.items() if k in LANGUAGE_KEYS}, where)
    proxies = _per_language(table.get("proxies", {}), f"{where}.proxies")
    against = _per_language(table.get("against", {}), f"{where}.against")
    if not any(t for _, t in terms) and not any(t for _, t in proxies):
        raise _error(f"{where}: the group has no terms (give at least one of {', '.join(LANGUAGE_KEYS)})")
    vietnamese = {t for lang, ts in terms + proxies if lang in ("vi", "any") for t in ts}
    name_like = _term_list(table.get("name_like", []), f"{where}.name_like")
    for i, term in enumerate(name_like):
        if term not in vietnamese:
            raise _error(f"{where}.name_like[{i}]: {term!r} is not one of the group's vi terms")
    required = table.get("required", True)
    if not isinstance(required, bool):
        raise _error(f"{where}.required: expected true or false, got {required!r}")
    return ConceptGroup(name, terms, proxies, against, name_like, required)


def _parse_exclude(value: Any, where: str) -> tuple[ExcludeRule, ...]:
    if not isinstance(value, list):
        raise _error(f"{where}: expected an array of tables ([[relevance.exclude]])")
    rules = []
    for i, table in enumerate(value):
        at = f"{where}[{i}]"
        _check_keys(table, {"label", "phrases", "pattern"}, at)
        label = table.get("label")
        if not isinstance(label, str) or not label.strip():
            raise _error(f"{at}.label: expected a short description such as \"place name\", got {label!r}")
        phrases = _term_list(table.get("phrases", []), f"{at}.phrases")
        pattern = table.get("pattern")
        if pattern is not None:
            if not isinstance(pattern, str) or not pattern:
                raise _error(f"{at}.pattern: expected a regular expression string, got {pattern!r}")
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise _error(f"{at}.pattern: not a valid regular expression: {exc}") from None
            if compiled.fullmatch(""):
                raise _error(f"{at}.pattern: {pattern!r} matches empty text")
        if not phrases and pattern is None:
            raise _error(f"{at}: give phrases, a pattern, or both")
        rules.append(ExcludeRule(label.strip(), phrases, pattern))
    return tuple(rules)


def _setting(table: dict, key: str, where: str):
    default, kind, low, high = _SETTINGS[key]
    value = table[key]
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        ok = ok and isinstance(value, int)
    if not ok or not low <= value <= high:
        what = "a whole number" if kind is int else "a number"
        raise _error(f"{where}.{key}: expected {what} from {low:g} to {high:g}, got {value!r}")
    return kind(value)


def parse_profile(table: dict | None, key: str = "relevance") -> TopicProfile:
    """Check a ``[relevance]`` table and build its :class:`TopicProfile`.

    ``None`` (no table) gives the shipped Vietnam–Russia defence profile. A table
    without ``groups`` keeps the default's groups and excludes and overrides the
    numbers it gives. Errors are ``crawler.config.ConfigError`` naming the key.
    """
    if table is None:
        return default_profile()
    _check_keys(table, {"groups", "exclude", *_SETTINGS}, key)
    settings = {name: _setting(table, name, key) for name in _SETTINGS if name in table}
    if "groups" not in table:
        base = default_profile()
        exclude = _parse_exclude(table["exclude"], f"{key}.exclude") if "exclude" in table else base.exclude
        return _build(base.groups, exclude, settings, key)
    groups_table = table["groups"]
    if not isinstance(groups_table, dict):
        raise _error(f"{key}.groups: expected a table of concept groups ([{key}.groups.NAME])")
    if not groups_table:
        raise _error(f"{key}.groups: define at least one concept group, e.g. [{key}.groups.topic]")
    groups = tuple(_parse_group(name, value, f"{key}.groups.{name}") for name, value in groups_table.items())
    exclude = _parse_exclude(table.get("exclude", []), f"{key}.exclude")
    return _build(groups, exclude, settings, key)


def _build(groups, exclude, settings: dict, key: str) -> TopicProfile:
    required = [g for g in groups if g.required]
    if not required:
        raise _error(f"{key}.groups: at least one group must be required")
    if settings.get("title_min_groups", 1) > len(required):
        raise _error(f"{key}.title_min_groups: {settings['title_min_groups']} is more than the "
                     f"{len(required)} required groups")
    return TopicProfile(groups=groups, exclude=exclude, **settings)


@lru_cache(maxsize=1)
def default_profile() -> TopicProfile:
    """The shipped Vietnam–Russia defence profile (``default_profile.toml``), parsed once."""
    text = resources.files("crawler.relevance").joinpath("default_profile.toml").read_text(encoding="utf-8")
    table = tomllib.loads(text)["relevance"]
    if "groups" not in table:
        raise RuntimeError("default_profile.toml has no [relevance.groups]")
    return parse_profile(table, key="relevance")
