"""Full-text search: the folding rule, the index's maintenance, and a safe FTS5 query builder.

The index ``articles_fts`` (FTS5, ``unicode61 remove_diacritics 2``, made by
migration 2 in ``store/db.py``) covers every article's title and text. The
tokenizer folds Latin accents by itself ("quốc phòng" is indexed as "quoc
phong", precomposed or not) but leaves "đ"/"Đ" alone (a letter of its own, not
"d" plus a mark), and Cyrillic "ё". The index therefore reads its content from
the view ``articles_fts_source``, which folds those letters with ``replace()``,
and triggers on ``articles`` keep it up to date on every insert, update and
delete, whoever writes. Queries are folded the same way by :func:`fold`, so
"Dang" finds "Đảng" and "quoc phong" finds "quốc phòng". The index stores no
second copy of the texts (external content).

User queries never reach ``MATCH`` as typed: :func:`build_match` cuts them into
word tokens and writes every token as a quoted FTS5 string, so ``C++``,
``AND``, a lone ``"``, ``a:b``, ``-``, ``*`` or ``NEAR(`` cannot cause a syntax
error. What the query language offers (see :func:`build_match`): words (all
required), "quoted phrases", ``-word`` to exclude, ``word*`` for a prefix and
``OR`` between alternatives. Russian words are reduced to a stem and searched
as a prefix, so "россия" also finds "России" and "Россией".

Standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

FTS_TABLE = "articles_fts"
TITLE_WEIGHT = 4.0  # bm25 weight of the title column; the text column weighs 1

# Combining marks that follow a Latin letter (Vietnamese tones and vowel marks, French
# accents): the tokenizer drops them from indexed text. Marks on Cyrillic stay: "й" is not "и".
_LATIN_MARKS = re.compile(r"(?<=[A-Za-z\u00C0-\u024F])[\u0300-\u036F\u1AB0-\u1AFF\u1DC0-\u1DFF]+")
# The letters the tokenizer does not fold; migration 2 folds exactly these with replace().
FOLDED_LETTERS = {"đ": "d", "Đ": "D", "ё": "е", "Ё": "Е"}
_LETTERS = str.maketrans(FOLDED_LETTERS)
# A word as FTS5's unicode61 sees it: letters and digits (the underscore separates).
_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
# Russian noun and adjective endings, longest first; stripped to get a prefix stem.
_RUSSIAN_ENDINGS = sorted(
    """ого его ому ему ыми ими ами ями иям иях ией
       ая яя ое ее ые ие ый ий ой ую юю ых их ым им ом ем ия ии ию ью ей ов ев ам ям ах ях
       а я о е ы и у ю ь й""".split(),
    key=len,
    reverse=True,
)
_RUSSIAN_MIN_STEM = 4


def fold(text: str | None) -> str:
    """Fold query text as the index is folded: Latin accents off, "đ" → "d", "ё" → "е".

    >>> fold("Đảng và quốc phòng, Россия и её армия")
    'Dang va quoc phong, Россия и ее армия'
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", _LATIN_MARKS.sub("", decomposed)).translate(_LETTERS)


def rebuild_index(conn) -> None:
    """Re-read every article into the index (after restoring a backup or repairing by hand).

    The triggers of migration 2 keep the index current on their own; ``conn`` is
    a ``sqlite3.Connection`` or a ``sqlite_utils.Database``.
    """
    conn.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')")


# --- queries -----------------------------------------------------------------


@dataclass
class Term:
    """One required or excluded item of a query: a word or a phrase of words."""

    words: list[tuple[str, bool]]  # (folded lower-case token, is a prefix)

    def to_fts(self) -> str:
        return " + ".join(f'"{word}"' + ("*" if prefix else "") for word, prefix in self.words)


@dataclass
class Alternative:
    """Terms that must all match, and terms that must not."""

    required: list[Term] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    def to_fts(self) -> str | None:
        if not self.required:
            return None
        expression = " AND ".join(term.to_fts() for term in self.required)
        if self.excluded:
            expression = f"({expression}) NOT ({' OR '.join(term.to_fts() for term in self.excluded)})"
        return f"({expression})"


_CHUNK = re.compile(r'"([^"]*)"?|([^\s"]+)')


def parse_query(query: str, operators: bool = True) -> list[Alternative]:
    """Cut user text into alternatives of terms; never fails, whatever the text.

    With ``operators`` off, ``OR``, ``AND`` and a leading ``-`` are plain text.
    """
    alternatives = [Alternative()]
    pending_or = False
    for match in _CHUNK.finditer(query or ""):
        phrase, bare = match.group(1), match.group(2)
        excluded = False
        if bare is not None and operators:
            if bare == "OR":
                pending_or = True
                continue
            if bare == "AND":
                continue
            if bare.startswith("-") and len(bare) > 1:
                excluded, bare = True, bare[1:]
        text = phrase if phrase is not None else bare
        user_prefix = bare is not None and bare.endswith("*")
        words = _WORD.findall(fold(text).lower())
        if not words:
            continue
        term = Term([_russian_prefix(word) for word in words])
        if user_prefix:
            term.words[-1] = (term.words[-1][0], True)
        if pending_or and alternatives[-1].required:
            alternatives.append(Alternative())
        pending_or = False
        (alternatives[-1].excluded if excluded else alternatives[-1].required).append(term)
    return [alt for alt in alternatives if alt.required]


def build_match(query: str) -> str | None:
    """The FTS5 ``MATCH`` expression for user text, or None when it has no searchable word.

    Query language (all of it optional)::

      quoc phong          both words, anywhere, accents optional
      "quốc phòng"        the phrase
      Nga -bóng           "Nga" without "bóng"
      Su-30*              prefix of the last word
      tàu ngầm OR submarine   either side
    Russian words are matched on their stem: "россия" finds "России".

    >>> build_match('C++ "quốc phòng" россия')
    '("c" AND "quoc" + "phong" AND "росс"*)'
    """
    expressions = [expr for alt in parse_query(query) if (expr := alt.to_fts())]
    if not expressions:  # "AND", "OR", "-nga" alone: search the words themselves
        expressions = [expr for alt in parse_query(query, operators=False) if (expr := alt.to_fts())]
    return " OR ".join(expressions) if expressions else None


def _russian_prefix(word: str) -> tuple[str, bool]:
    """A Russian word becomes a prefix stem ("россия" → "росс*"); other words stay exact."""
    if not _CYRILLIC.search(word) or len(word) < 3:
        return word, False
    for ending in _RUSSIAN_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _RUSSIAN_MIN_STEM:
            return word[: -len(ending)], True
    return word, True
