"""Fold text for matching, and compare the diacritics that folding throws away.

Matching runs on a *folded* copy of the text: lower-case, Latin diacritics
removed, "đ" → "d", "ё" → "е", every dash → "-", curly apostrophes → "'".
Folding maps each character to exactly one character, so an offset in the folded
copy is the same offset in the original; the original is consulted afterwards
for what folding lost (capital letters, tone marks).

Folding alone would make "Nga" (Russia) match "ngã" (to fall) and "hải quân"
(navy) match "hai quân" (two armies). :func:`marks_agree` puts the diacritics
back into the comparison: in text written with diacritics every syllable must
carry the term's marks (the tone may sit on either vowel: "hoà" = "hòa"); in
text written without them an unmarked syllable matches any marked one.
"""

from __future__ import annotations

import re
import unicodedata

# Vietnamese tone marks (one per syllable, its position varies between "old" and
# "new" spelling) and vowel-quality marks (part of the letter: â ă ê ô ơ ư).
_TONES = {"\u0300": "`", "\u0301": "'", "\u0303": "~", "\u0309": "?", "\u0323": "."}
_QUALITY = {"\u0302": "^", "\u0306": "(", "\u031b": "+"}
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"


def _fold_char(char: str) -> str:
    if char in _DASHES:
        return "-"
    if char in "\u2018\u2019\u02bc":
        return "'"
    if char in "đĐ":
        return "d"
    if char in "ёЁ":
        return "е"
    lower = char.lower()
    if len(lower) != 1:
        return char
    if lower < "\u0250" or "\u1e00" <= lower <= "\u1eff":  # Latin: drop the marks
        base = "".join(c for c in unicodedata.normalize("NFD", lower) if not unicodedata.combining(c))
        if len(base) == 1:
            return base
    return lower


_FOLDED = {
    code: _fold_char(chr(code))
    for code in [*range(0x41, 0x530), *range(0x1E00, 0x1F00), *range(0x2010, 0x2016), 0x2018, 0x2019, 0x2212, 0x02BC]
}
# A string indexed by code point: str.translate looks it up twice as fast as a dict.
# Characters past its end are kept as they are.
_FOLD_TABLE = "".join(_FOLDED.get(code, chr(code)) for code in range(max(_FOLDED) + 1))


def nfc(text: str) -> str:
    """The text in Unicode NFC (Vietnamese is often sent decomposed); cheap when it already is."""
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Fold NFC ``text`` for matching; the result has the same length.

    >>> fold("Bộ Quốc phòng – LB Nga, Вооружённые силы")
    'bo quoc phong - lb nga, вооруженные силы'
    """
    return text.translate(_FOLD_TABLE)


def _char_marks(char: str) -> tuple[str | None, str | None]:
    """(tone, quality) of one Latin letter, e.g. "ệ" → (".", "^"), "đ" → (None, "-")."""
    if char in "đĐ":
        return None, "-"
    tone = quality = None
    for mark in unicodedata.normalize("NFD", char)[1:]:
        tone = _TONES.get(mark, tone)
        quality = _QUALITY.get(mark, quality)
    return tone, quality


_MARKS = {chr(code): _char_marks(chr(code)) for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]}
_MARKS = {char: marks for char, marks in _MARKS.items() if marks != (None, None)}

# Letters that carry a Vietnamese diacritic: how "written with diacritics" is told apart.
_MARKED_LETTER = re.compile("[" + "".join(sorted(_MARKS)) + "]")
_SYLLABLE = re.compile(r"[^\W\d_]+")
_SAMPLE_CHARS = 3000  # enough to tell how a text is typed


def syllable_marks(syllable: str) -> tuple[str | None, tuple[str | None, ...]]:
    """The diacritics of one syllable: its tone (wherever it sits) and the quality mark per letter."""
    tone = None
    quality = []
    for char in syllable:
        char_tone, char_quality = _MARKS.get(char, (None, None))
        tone = tone or char_tone
        quality.append(char_quality)
    return tone, tuple(quality)


def marks_signature(text: str) -> tuple[tuple[str | None, tuple[str | None, ...]], ...]:
    """:func:`syllable_marks` of every letter run in ``text`` (a term or the matched span)."""
    return tuple(syllable_marks(s) for s in _SYLLABLE.findall(text))


_UNMARKED = (None, ())


def marks_agree(span: str, term_signature: tuple, written_with_diacritics: bool) -> bool:
    """Does the original ``span`` carry the diacritics of the term whose signature is given?

    ``span`` folds to the term (the match guarantees it); only the marks can differ.

    >>> sig = marks_signature("Nga")
    >>> marks_agree("Nga", sig, True), marks_agree("ngã", sig, True)
    (True, False)
    >>> marks_agree("hai quân", marks_signature("hải quân"), True)
    False
    >>> marks_agree("hai quan", marks_signature("hải quân"), False)
    True
    >>> marks_agree("hoà bình", marks_signature("hòa bình"), True)
    True
    """
    span_signature = marks_signature(span)
    if len(span_signature) != len(term_signature):  # a stem term: compare the stem's syllables
        span_signature = span_signature[: len(term_signature)]
    for (span_tone, span_quality), (term_tone, term_quality) in zip(span_signature, term_signature):
        if not written_with_diacritics and span_tone is None and not any(span_quality):
            continue  # "Viet Nam" in text typed without diacritics
        if span_tone != term_tone:
            return False
        if span_quality[: len(term_quality)] != term_quality[: len(span_quality)]:
            return False
    return True


def written_with_diacritics(text: str) -> bool:
    """True for Vietnamese typed with its diacritics (a marked letter every few words).

    A Vietnamese name ("Nguyễn") quoted in text typed without diacritics does not
    make the whole text "with diacritics".
    """
    sample = text[:_SAMPLE_CHARS]
    marked = len(_MARKED_LETTER.findall(sample))
    return marked >= 3 and marked >= 0.02 * len(sample)


# One Vietnamese syllable as written without diacritics: onset, vowels, final.
_VIETNAMESE_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?"
)


def is_vietnamese_syllable(word: str) -> bool:
    """Could ``word`` be one Vietnamese syllable? "Tiến", "Sơn", "Thúy" yes; "Sergei", "Putin", "LB" no."""
    return _VIETNAMESE_SYLLABLE.fullmatch(fold(word)) is not None
