"""Find a topic profile's terms in one piece of text (a title or a body).

All terms of a language are compiled once into a single regular expression over
*folded* text (see :mod:`crawler.relevance.folding`), shaped as a trie so that
the regex engine does not try hundreds of alternatives at every position. Terms
match on word (syllable) boundaries only, so "Nga" is never found inside "Ngân"
or "Ngày"; a term ending in ``*`` is a stem ("Росси*" finds России, Россией,
российский, российско-вьетнамский). Each match is then checked against the
original text:

* diacritics (:func:`~crawler.relevance.folding.marks_agree`): "ngã" is not "Nga";
* capitals, for terms that are proper names and for exclude phrases, in text
  written in ordinary sentence case: "thiên nga" (a swan) is not "Nga";
* the Vietnamese name rule for terms a profile lists as ``name_like``: "Nga" next
  to another capitalised Vietnamese syllable ("Thúy Nga", "Nga Sơn", "Nga Tiến")
  or after a personal title ("chị Nga") is a person or a place, not Russia. A
  neighbour that cannot be a Vietnamese syllable ("Nga Sergei Shoigu", "LB Nga"),
  a dash ("Việt - Nga") or a capitalised function word at the start of a sentence
  ("Phía Nga", "Theo Nga") keeps the country reading.

Exclude phrases are matched like terms (and win over the shorter terms inside
them); exclude regular expressions run on the original text. Either removes the
terms it covers.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from crawler.relevance.folding import fold, is_vietnamese_syllable, marks_agree, marks_signature, written_with_diacritics

TERM = "term"
PROXY = "proxy"
AGAINST = "against"
EXCLUDE = "exclude"

# Personal titles and kinship words before a given name ("chị Nga", "bà Nga",
# "cô giáo Nga"). Without diacritics, "co", "di", "o" and "ma" are left out: there
# they are far more often "có" (has), "đi" (go to), "ở" (in) and "mà" (but) — "đi
# Nga" is Russia.
PERSON_TITLES = frozenset("chị cô bà em bé cháu mẹ má dì nàng mợ thím giáo".split())
PERSON_TITLES_PLAIN = frozenset("chi ba em be chau me nang mo thim giao".split())

# Words capitalised only because they start a sentence ("Theo Nga, ...", "Phía Nga
# cho biết") or a heading: next to them a name-like term keeps its usual meaning.
SENTENCE_START_WORDS = frozenset(
    """theo tai o voi cung phia nuoc va tu sang con giua khi neu nhung den toi tham cua ca rieng
    hai ba cac nguoi quan tau linh hang tieng khach ban doan trong ngoai sau truoc tren duoi vi do
    nhu la thi ma boi nho de cho chi ngay hom nay dan""".split()
)

_WORD_BEFORE = re.compile(r"([^\W\d_]+)[ \t\u00a0]+$")
_WORD_AFTER = re.compile(r"^[ \t\u00a0]+([^\W\d_]+)")
_SENTENCE_BREAK = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|\n\s*")
_WORDS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class TermEntry:
    """One term of the profile, ready for matching."""

    group: str  # concept group name, or the exclude label for EXCLUDE entries
    term: str  # as written in the profile (what the user sees)
    kind: str  # TERM, PROXY, AGAINST or EXCLUDE
    lang: str  # "vi", "en", "ru" or "any"
    name_like: bool = False
    regex: re.Pattern = field(compare=False, default=None)  # fullmatch on the folded span
    signature: tuple = field(compare=False, default=())  # diacritics per syllable (Latin terms)
    capitals: tuple = field(compare=False, default=())  # which syllables are capitalised
    lowered: str = field(compare=False, default="")  # the term in lower case, without a trailing "*"


@dataclass
class Hit:
    """One accepted match."""

    entry: TermEntry
    start: int
    in_title: bool
    sentence: int = 0


@dataclass
class FieldMatches:
    """What was found in one field, including what was matched but set aside and why."""

    hits: list[Hit] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (text as written, label)
    names: list[str] = field(default_factory=list)  # name-like terms read as names, with context


# --- compiling ---------------------------------------------------------------


def _tokens(folded_term: str) -> list[str]:
    """Split a folded term into regex-level tokens: single characters, " " (spaces), "-" (dash), "*" (stem)."""
    term = re.sub(r"\s*-\s*", "-", " ".join(folded_term.split()))
    return list(term)


def _token_regex(token: str) -> str:
    if token == " ":
        return r"\s+"
    if token == "-":
        return r"\s*-\s*"
    if token == "*":
        return r"\w*"
    return re.escape(token)


def _trie_regex(token_lists: list[list[str]]) -> str:
    """One regex matching any of the token sequences, longest alternative first at each step."""
    trie: dict = {}
    for tokens in token_lists:
        node = trie
        for token in tokens:
            node = node.setdefault(token, {})
        node[""] = {}

    def build(node: dict) -> str:
        literal = sorted(t for t in node if t and t not in " -*")
        ordered = literal + [t for t in (" ", "-", "*") if t in node]
        alternatives = [_token_regex(t) + build(node[t]) for t in ordered]
        if "" in node:
            alternatives.append(r"(?!\w)")
        if len(alternatives) == 1:
            return alternatives[0]
        return "(?:" + "|".join(alternatives) + ")"

    return r"(?<!\w)" + build(trie)


def _lookup_key(folded_span: str) -> str:
    return re.sub(r"\s*-\s*", "-", " ".join(folded_span.split()))[:2]


class TermIndex:
    """All terms of a profile, compiled per language; built once per profile."""

    def __init__(self, entries: list[TermEntry], patterns: list[tuple[re.Pattern, str]]):
        self.patterns = patterns  # exclude regexes on the original text, with their labels
        self.languages = sorted({e.lang for e in entries} - {"any"})
        self._by_key: dict[str, list[TermEntry]] = {}
        self._tokens: dict[TermEntry, list[str]] = {}
        compiled = []
        for entry in entries:
            folded = fold(entry.term)
            tokens = _tokens(folded)
            regex = re.compile("".join(_token_regex(t) for t in tokens))
            words = _WORDS.findall(entry.term)
            entry = TermEntry(
                entry.group, entry.term, entry.kind, entry.lang, entry.name_like, regex,
                marks_signature(entry.term) if re.search("[a-z]", folded) else (),
                tuple(w[:1].isupper() for w in words),
                entry.term.lower().split("*")[0],
            )
            compiled.append(entry)
            self._tokens[entry] = tokens
            self._by_key.setdefault(_lookup_key(folded.replace("*", "")), []).append(entry)
        self.entries = compiled
        self._regex = {lang: self._compile(lang) for lang in [*self.languages, None]}

    def _compile(self, lang: str | None) -> re.Pattern:
        tokens = [self._tokens[e] for e in self.entries if lang is None or e.lang in (lang, "any")]
        return re.compile(_trie_regex(tokens) if tokens else r"(?!)")

    def regex_for(self, lang: str | None) -> re.Pattern:
        """The trie regex of the terms of ``lang`` plus the "any" terms (all terms for None or an unknown language)."""
        return self._regex.get(lang) or self._regex[None]

    def identify(self, folded_span: str, lang: str | None) -> list[TermEntry]:
        """The entries (of ``lang``) whose term matches the whole folded span."""
        return [
            e for e in self._by_key.get(_lookup_key(folded_span), ())
            if (lang is None or e.lang in (lang, "any")) and e.regex.fullmatch(folded_span)
        ]


# --- matching ----------------------------------------------------------------


def case_is_informative(text: str) -> bool:
    """True when capitals carry meaning: sentence case, not ALL CAPS, all lower case or Title Case."""
    if text.isupper() or text.islower():
        return False
    if len(text) <= 300:
        words = _WORDS.findall(text)
        if len(words) >= 4 and sum(w[0].isupper() for w in words) >= 0.8 * len(words):
            return False
    return True


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and (len(word) == 1 or word[1:].islower())


def name_reading(text: str, start: int, end: int, case_matters: bool, with_diacritics: bool) -> str | None:
    """Why the name-like term at ``text[start:end]`` is a name, as a short quote; None if it is not.

    >>> name_reading("Ca sĩ Thúy Nga hát", 11, 14, True, True)
    'Thúy Nga'
    >>> name_reading("Xã Nga Tiến đạt chuẩn", 3, 6, True, True) , name_reading("quân Nga tiến công", 5, 8, True, True)
    ('Nga Tiến', None)
    >>> name_reading("Phía Nga cho biết", 5, 8, True, True) is None
    True
    """
    word = text[start:end]
    if case_matters and not word[:1].isupper():
        return word  # "thiên nga": a proper name is capitalised
    before = _WORD_BEFORE.search(text, max(0, start - 40), start)
    previous = before.group(1) if before else ""
    if previous and ((previous.lower() in PERSON_TITLES) if with_diacritics else (fold(previous) in PERSON_TITLES_PLAIN)):
        return f"{previous} {word}"
    if not case_matters:
        return None
    after = _WORD_AFTER.search(text[end:end + 40])
    if after and _is_name_part(after.group(1)):
        return f"{word} {after.group(1)}"
    if previous and _is_name_part(previous):
        return f"{previous} {word}"
    return None


def _is_name_part(word: str) -> bool:
    """A capitalised Vietnamese syllable that is not a sentence-opening function word."""
    return _capitalised(word) and is_vietnamese_syllable(word) and fold(word) not in SENTENCE_START_WORDS


def _capitals_agree(span: str, capitals: tuple) -> bool:
    words = _WORDS.findall(span)
    return all(not wanted or w[:1].isupper() for w, wanted in zip(words, capitals))


def sentence_starts(text: str) -> list[int]:
    """Offsets where the 2nd, 3rd, ... sentence (or line) of ``text`` begins."""
    return [m.end() for m in _SENTENCE_BREAK.finditer(text)]


def find_terms(index: TermIndex, text: str, lang: str | None, in_title: bool) -> FieldMatches:
    """Match the profile's terms in one NFC field (see the module docstring for the rules)."""
    found = FieldMatches()
    if not text:
        return found
    folded = fold(text)
    regex = index.regex_for(lang)
    masked = []
    for pattern, label in index.patterns:
        for m in pattern.finditer(text):
            if m.end() > m.start():
                masked.append((m.start(), m.end(), m.group(), label))
    with_diacritics = case_matters = None
    starts = sentence_starts(text) if not in_title else []
    position = 0
    while True:
        m = regex.search(folded, position)
        if m is None:
            break
        if with_diacritics is None:
            with_diacritics = written_with_diacritics(text)
            case_matters = case_is_informative(text)
        start, end = m.span()
        while True:
            accepted = _accepted_entries(index, folded, text, start, end, lang, with_diacritics, case_matters, found)
            if accepted:
                break
            end = _shorter_match(regex, folded, start, end)  # "Nga" inside a rejected "Nga Điền"
            if end is None:
                break
        if not accepted:
            position = start + 1
            continue
        position = end
        span = text[start:end]
        if any(e.kind == EXCLUDE for e in accepted):
            found.excluded.append((span, next(e.group for e in accepted if e.kind == EXCLUDE)))
            continue
        regex_mask = next((x for x in masked if x[0] < end and start < x[1]), None)
        if regex_mask is not None:
            found.excluded.append((regex_mask[2], regex_mask[3]))
            continue
        sentence = bisect.bisect_right(starts, start)
        for entry in accepted:
            if entry.name_like:
                name = name_reading(text, start, end, case_matters, with_diacritics)
                if name is not None:
                    found.names.append(name)
                    continue
            found.hits.append(Hit(entry, start, in_title, sentence))
    return found


def _accepted_entries(index: TermIndex, folded: str, text: str, start: int, end: int, lang: str | None,
                      with_diacritics: bool, case_matters: bool, found: FieldMatches) -> list[TermEntry]:
    """The entries matching ``text[start:end]`` whose diacritics and capitals agree with the original."""
    span = text[start:end]
    accepted = []
    lowered = span.lower()
    for entry in index.identify(folded[start:end], lang):
        if entry.signature and not lowered.startswith(entry.lowered) \
                and not marks_agree(span, entry.signature, with_diacritics):
            continue
        if case_matters and (entry.kind == EXCLUDE or entry.name_like) and not _capitals_agree(span, entry.capitals):
            if entry.name_like:
                found.names.append(span)
            continue
        accepted.append(entry)
    return accepted


def _shorter_match(regex: re.Pattern, folded: str, start: int, end: int) -> int | None:
    """The end of the next shorter term match at ``start``, or None."""
    while end > start + 1:
        m = regex.match(folded, start, end - 1)
        if m is None:
            return None
        end = m.end()
        if end == len(folded) or not folded[end].isalnum():  # a real word boundary, not the cut
            return end
    return None
