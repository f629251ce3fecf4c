"""Reduce an article text to the words that make it one story.

Reprints of one story differ in what an outlet adds around it, not in the story:
a credit ("Theo VGP News", "(TTXVN)", "ТАСС,"), a dateline ("HANOI (Reuters) -",
"МОСКВА, 4 февраля. /ТАСС/."), photo captions ("... (Ảnh: Duy Trinh/TTXVN)"), a
"related news" sidebar a naive scrape left in, an author's name on the last line,
quote styles and punctuation. :func:`normalize_text` removes those, so the MinHash
of two reprints compares the story itself, and :func:`normalized_words` gives the
lower-case word list that shingles and the exact-duplicate hash are built from.

Everything here is plain text processing: no language model, no network. The rules
are line based because scraped text keeps the page's lines (captions, credits and
sidebar items are lines of their own).
"""

from __future__ import annotations

import re
import unicodedata

# Bump when the rules change: stored signatures made by other rules need a rebuild.
NORMALIZE_VERSION = 1

# A line that is only one of these starts a sidebar of links to other stories.
SIDEBAR_MARKERS = frozenset(
    {
        # Vietnamese
        "tin liên quan", "bài liên quan", "bài viết liên quan", "tin bài liên quan", "có thể bạn quan tâm",
        "tin khác", "tin mới hơn", "tin cũ hơn", "tin cùng chuyên mục", "tin mới", "tin nổi bật", "xem thêm",
        "đọc thêm", "đọc nhiều", "tin đọc nhiều", "bài đọc nhiều", "tin xem nhiều", "cùng chuyên mục",
        "các tin khác", "tin tức liên quan",
        # English
        "related", "related news", "related articles", "related stories", "read more", "read also",
        "see also", "more stories", "more news", "most read", "you may also like", "recommended",
        # Russian
        "читайте также", "по теме", "похожие материалы", "другие новости", "смотрите также", "новости по теме",
        "материалы по теме", "самое читаемое", "еще по теме", "ещё по теме",
    }
)

# A sidebar marker after this many words of body ends the body: the rest is cut. One
# nearer the top is page furniture above the body: only the marker line is dropped.
SIDEBAR_AFTER_WORDS = 30

# Lines that are page furniture wherever they appear.
JUNK_LINES = frozenset(
    {
        "null", "none", "undefined", "in bài viết", "in bài", "bình luận", "chia sẻ", "chia sẻ bài viết",
        "gửi bình luận", "lưu bài viết", "print", "share", "comments", "comment", "печать", "поделиться",
        "комментарии",
    }
)

# News agencies and outlets whose name in parentheses is a credit, not text.
AGENCIES = (
    "ttxvn", "vna", "vnanet", "vov", "vtv", "vgp", "vgp news", "chinhphu.vn", "qđnd", "qdnd", "nhân dân",
    "tuổi trẻ", "thanh niên", "dân trí", "vnexpress", "vietnamplus", "glo", "baoquocte.vn", "tg&vn", "cand",
    "reuters", "ap", "afp", "bloomberg", "xinhua", "tass", "ria novosti", "sputnik", "interfax",
    "тасс", "риа новости", "интерфакс", "рбк", "спутник",
)
_AGENCY_RE = "|".join(re.escape(a) for a in sorted(AGENCIES, key=len, reverse=True))

# "(Ảnh: Duy Trinh/TTXVN)", "(Photo: VNA)", "(Фото: ТАСС)" – a caption's credit.
_PHOTO_CREDIT = re.compile(r"\(\s*(?:ảnh|anh|photo|photos|фото)\s*:[^()]*\)", re.IGNORECASE)
# A whole caption line: ends in a photo credit, or is a numbered photo heading "... - Ảnh 1."
_CAPTION_LINE = re.compile(
    r"(?:\(\s*(?:ảnh|photo|photos|фото)\s*:[^()]*\)\s*\|?\s*$)|(?:[-–—]\s*(?:ảnh|photo|фото)\s*\d+\.?\s*$)",
    re.IGNORECASE,
)
# A short line that begins like a credit or caption label.
_CREDIT_START = re.compile(
    r"^(?:theo|nguồn|nguon|source|sources|by|источник|по материалам)\b"
    r"|^(?:ảnh|photo|photos|bài và ảnh|bài, ảnh|bài|tin|video|автор|фото|текст)\s*:",
    re.IGNORECASE,
)
CREDIT_LINE_MAX_WORDS = 7
# "(TTXVN)", "(Reuters)" anywhere in a line.
_AGENCY_PAREN = re.compile(rf"\(\s*(?:{_AGENCY_RE})\s*\)", re.IGNORECASE)
# Dateline + credit at the start of a line: "(Chinhphu.vn) - ", "HANOI (Reuters) - ",
# "Hà Nội, 15/9 (TTXVN) - ", "(GLO)- ".
_DATELINE_PAREN = re.compile(r"^\s*(?:[^\s()]+[ ,]+){0,5}\(([^()\n]{1,30})\)\s*[-–—:]\s*")
# Russian agency datelines: "МОСКВА, 4 февраля. /ТАСС/. ", "МОСКВА, 4 фев - РИА Новости. ",
# "ТАСС, 4 февраля. ".
_DATELINE_SLASH = re.compile(
    rf"^\s*[^/\n]{{0,60}}/\s*(?:корр\.\s*|итар-)?(?:{_AGENCY_RE})\s*/\.?\s*", re.IGNORECASE
)
_DATELINE_DASH = re.compile(rf"^\s*[^\n]{{0,50}}?\s[-–—]\s*(?:{_AGENCY_RE})\.\s*", re.IGNORECASE)
_DATELINE_AGENCY_FIRST = re.compile(rf"^\s*(?:{_AGENCY_RE})\s*,\s*\d{{1,2}}\s+\w+\.?\s*", re.IGNORECASE)
# A short line that carries a date or a clock time: "09:08 - 14/08/2024", "10:12 | 13/11/2025 Tin tức".
_DATE_OR_TIME = re.compile(r"\b\d{1,2}:\d{2}\b|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")
DATE_LINE_MAX_WORDS = 6
# Trailing lines this short after the body are signatures ("Minh Anh", "Văn Chiến (TTXVN)", "Đ").
SIGNATURE_MAX_WORDS = 4

# House spellings of one name or word that outlets reprinting the same story differ in
# ("Viet Nam" at VNA, "Vietnam" elsewhere; "LB Nga" for "Liên bang Nga"; Moscow in
# three Vietnamese spellings; British and American English). Applied to the
# case-folded word sequence, so each folds to one spelling.
SPELLING_VARIANTS = {
    ("viet", "nam"): ("vietnam",),
    ("ha", "noi"): ("hanoi",),
    ("lb", "nga"): ("liên", "bang", "nga"),
    ("mát", "xcơ", "va"): ("moscow",),
    ("moskva",): ("moscow",),
    ("defense",): ("defence",),
}
_VARIANT_FIRST_WORDS = {key[0] for key in SPELLING_VARIANTS}

_WORD = re.compile(r"\w+")
# Folded so that spelling variants of one word compare equal.
_FOLD = str.maketrans({"ё": "е", "Ё": "Е", "\u00a0": " ", "\u200b": "", "\ufeff": ""})


def normalize_text(text: str) -> str:
    """Return ``text`` without credits, datelines, captions, sidebars and punctuation.

    The result is NFC, case-folded words separated by single spaces. It is empty
    when nothing of the body is left (a caption-only or empty text).

    >>> normalize_text("HANOI (Reuters) - Ministers met.\\nPhoto: Reuters")
    'ministers met'
    """
    return " ".join(normalized_words(text))


def normalized_words(text: str) -> list[str]:
    """The words of the story body of ``text``, NFC and case-folded, in order."""
    words: list[str] = []
    for line in body_lines(text):
        words.extend(_WORD.findall(line.casefold()))
    return fold_spellings(words)


def fold_spellings(words: list[str]) -> list[str]:
    """Replace the house spellings in :data:`SPELLING_VARIANTS` by one spelling."""
    if not _VARIANT_FIRST_WORDS.intersection(words):
        return words
    folded: list[str] = []
    i = 0
    while i < len(words):
        if words[i] in _VARIANT_FIRST_WORDS:
            for key, replacement in SPELLING_VARIANTS.items():
                if tuple(words[i : i + len(key)]) == key:
                    folded.extend(replacement)
                    i += len(key)
                    break
            else:
                folded.append(words[i])
                i += 1
        else:
            folded.append(words[i])
            i += 1
    return folded


def body_lines(text: str) -> list[str]:
    """The lines of ``text`` that belong to the story, with inline credits removed."""
    text = unicodedata.normalize("NFC", text or "").translate(_FOLD)
    kept: list[str] = []
    body_words = 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if _is_sidebar_marker(line):
            if body_words >= SIDEBAR_AFTER_WORDS:
                break
            continue
        if _is_furniture(line):
            continue
        line = _strip_inline_credits(line)
        if _is_short_label(line):
            continue
        words = len(_WORD.findall(line))
        if words:
            kept.append(line)
            body_words += words
    while len(kept) > 1 and len(_WORD.findall(kept[-1])) <= SIGNATURE_MAX_WORDS:
        kept.pop()
    return kept


def _bare(line: str) -> str:
    """The line case-folded, without surrounding punctuation, pipes and colons."""
    return re.sub(r"[\W_]+$", "", re.sub(r"^[\W_]+", "", line.casefold())).strip()


def _is_sidebar_marker(line: str) -> bool:
    return _bare(line) in SIDEBAR_MARKERS


def _is_furniture(line: str) -> bool:
    """Captions, junk and credits in parentheses: lines that are not story text."""
    bare = _bare(line)
    if bare in JUNK_LINES:
        return True
    if line.rstrip().endswith("|"):
        # table-cell leftovers of naive scrapes: sidebar teasers and captions
        return True
    if _CAPTION_LINE.search(line):
        return True
    if _AGENCY_PAREN.fullmatch(line.strip()):
        return True
    return bare.startswith("theo dõi") and "google news" in bare


def _is_short_label(line: str) -> bool:
    """Short lines that are credits ("Theo VGP News", "Фото: ТАСС") or date stamps ("09:08 - 14/08/2024")."""
    words = _WORD.findall(line)
    bare = _bare(line)
    if len(words) <= CREDIT_LINE_MAX_WORDS and (_CREDIT_START.match(bare) or bare in AGENCIES):
        return True
    return len(words) <= DATE_LINE_MAX_WORDS and bool(_DATE_OR_TIME.search(line))


def _looks_like_credit(name: str) -> bool:
    """"TTXVN", "Chinhphu.vn", "Dân trí", "Reuters": a capitalised name of at most three words."""
    name = name.strip()
    return bool(name) and name[0].isupper() and len(name.split()) <= 3


def _strip_inline_credits(line: str) -> str:
    """Remove datelines at the start of a line and agency or photo credits inside it."""
    for pattern in (_DATELINE_AGENCY_FIRST, _DATELINE_SLASH, _DATELINE_DASH, _DATELINE_PAREN):
        match = pattern.match(line)
        if match is None:
            continue
        if pattern is _DATELINE_PAREN and not _looks_like_credit(match.group(1)):
            continue  # "Bộ trưởng Phan Văn Giang (phải) - ..." is text
        line = line[match.end():]
        break
    line = _AGENCY_PAREN.sub(" ", line)
    line = _PHOTO_CREDIT.sub(" ", line)
    return line
