"""Site-independent cleanup of extracted article text in Vietnamese, Russian and English news.

trafilatura finds the body, but on news sites it (or a naive scraper) can leave:

* related-links blocks: a heading such as "TIN LIÊN QUAN", "Bài viết liên quan",
  "Có thể bạn quan tâm", "Читайте также", "Read more" followed by headlines,
  teasers and time stamps. When the block trails the story, the heading and
  everything after it go; a small box inside the story (or above it) loses only
  the heading and its headline lines;
* credit lines: "Theo VGP News", "(TTXVN)" or "Nguồn: ..." alone on a line, a
  photographer's "Ảnh: ..." (the dateline that opens a lead, "(Dân trí) - " or
  "МОСКВА, 14 августа. /ТАСС/.", stays: it is part of the lead as printed and
  tells which agency filed the story);
* photo captions that identify themselves ("... (Ảnh: Nguyễn Hồng)", "... - Ảnh 1.");
* widget text ("In bài viết", "Bình luận (0)", "Theo dõi ... trên Google News") and
  lone junk such as "null";
* NUL bytes, control and zero-width characters, table-cell pipes.

Everything here works on lines of plain text and knows no site, so the same rules
serve every source; :func:`clean_article_text` is idempotent.
"""

from __future__ import annotations

import re
import unicodedata

# ---- what the lines look like -------------------------------------------------------------

# Headings that start a block of links to other stories. "Strong" ones always
# announce other stories; "weak" ones also appear as a one-off pointer inside a story.
_STRONG_HEADINGS = {
    "tin liên quan", "bài liên quan", "bài viết liên quan", "tin bài liên quan", "tin cùng chuyên mục",
    "tin cùng chủ đề", "bài cùng chuyên mục", "có thể bạn quan tâm", "bạn có thể quan tâm", "tin khác",
    "các tin khác", "tin mới hơn", "tin cũ hơn", "tin đã đưa", "tin mới", "tin mới nhất", "tin nổi bật",
    "tin nóng", "đọc nhiều", "đọc nhiều nhất", "xem nhiều", "xem nhiều nhất", "tin xem nhiều",
    "bình luận", "ý kiến bạn đọc", "gửi bình luận", "bài viết cùng chủ đề",
    "другие новости", "новости по теме", "ещё по теме", "еще по теме", "материалы по теме",
    "самое читаемое", "популярное", "комментарии", "последние новости",
    "related articles", "related news", "related stories", "related posts", "more stories",
    "you may also like", "you might also like", "recommended", "most read", "most popular",
    "latest news", "more from", "comments",
}
_WEAK_HEADINGS = {
    "xem thêm", "đọc thêm", "tham khảo thêm", "xem tiếp", "mời xem thêm",
    "читайте также", "смотрите также", "читайте еще", "читайте ещё", "по теме",
    "read more", "see also", "related", "more", "also read", "read also",
}
# A pointer to another story on one line: "Xem thêm: Giá vàng hôm nay ...".
_INLINE_POINTER = re.compile(
    r"^(?:xem thêm|đọc thêm|tham khảo thêm|tin liên quan|bài liên quan|>>|»|"
    r"читайте также|смотрите также|читайте ещё|читайте еще|по теме|"
    r"read more|see also|also read|read also|related)\s*[:>»>\-–]\s*\S",
    re.IGNORECASE,
)
# Lines that are page furniture whatever the site.
_JUNK_LINES = {
    "null", "none", "undefined", "nan", "|", "-", "•", "in bài viết", "in bài", "bản in", "chia sẻ",
    "chia sẻ bài viết", "share", "facebook", "twitter", "zalo", "copy link", "sao chép liên kết",
    "bình luận (0)", "gửi", "gửi bình luận", "quay lại", "về trang chủ", "lên đầu trang", "theo dõi",
    "tải ứng dụng:", "tải ứng dụng", "quảng cáo", "advertisement", "реклама", "поделиться",
    "print", "email", "tweet", "loading...", "đang tải...",
}
_JUNK_PATTERNS = [
    re.compile(r"^theo dõi .{1,60} (?:trên|tại) google news$", re.IGNORECASE),
    re.compile(r"^bình luận\s*\(\d+\)$", re.IGNORECASE),
    re.compile(r"^hiện chưa có bình luận nào", re.IGNORECASE),
    re.compile(r"^tối đa:? ?\d+ ký tự$", re.IGNORECASE),
    re.compile(r"^(?:ảnh|video|clip|infographic)\s*:?\s*$", re.IGNORECASE),
    re.compile(r"^\d{1,2}:\d{2}(?:\s*[|\-–]\s*\d{1,2}/\d{1,2}/\d{4})?(?:\s+\S+(?:\s+\S+){0,4})?$"),  # "10:12 | 13/11/2025 Tin tức"
    re.compile(r"^(?:\d{1,2}:\d{2}\s*[-–|,]?\s*)?\d{1,2}/\d{1,2}/\d{4}(?:\s*[-–|,]?\s*\d{1,2}:\d{2})?(?:\s*\(gmt\s*[+-]\d+\))?$", re.IGNORECASE),
]
# A credit alone on a line.
_WIRE_CREDIT = re.compile(r"^\(\s*[^()\n]{2,40}\s*\)\.?$")  # "(TTXVN)", "(Chinhphu.vn)"
_SOURCE_CREDIT = re.compile(r"^(?:nguồn|source|источник)\s*:\s*\S.{0,100}$", re.IGNORECASE)
_PHOTO_CREDIT = re.compile(
    r"^(?:ảnh|ảnh minh họa|ảnh minh hoạ|ảnh tư liệu|ảnh chụp màn hình|đồ họa|đồ hoạ|video|clip|"
    r"photo|photos|фото|видео)\s*:\s*\S.{0,100}$",
    re.IGNORECASE,
)
_THEO_CREDIT = re.compile(r"^(?:theo|by|по материалам|по данным)\s+\S[^.!?;:,]{0,60}\.?$", re.IGNORECASE)
_AGENCY_CREDIT = re.compile(
    r"^\(?(?:additional )?(?:reporting|writing|editing|compiled) by\b.{1,150}\)?\.?$", re.IGNORECASE
)  # "Reporting by John Smith; Editing by Jane Doe"
_COMPILED_BYLINE = re.compile(r"\((?:tổng hợp|lược dịch|theo [^)]{2,40})\)\.?$", re.IGNORECASE)
# Captions that carry their own credit, or the alt-text pattern "<title>- Ảnh 1."
_CAPTION = re.compile(
    r"(?:\(\s*(?:ảnh|nguồn|photo|фото)\s*:[^()]{1,80}\)\.?"
    r"|(?:[-–]|[.!?])\s*(?:ảnh|photo|фото)\s*:\s*.{1,60}"
    r"|[-–]\s*ảnh\s+\d+\.?)$",
    re.IGNORECASE,
)
MAX_CAPTION_CHARS = 400
# The outlet's dateline before the lead: "(Dân trí) - ", "(NLĐO)- ", "HÀ NỘI (Reuters) - ".
_LEADING_DATELINE = re.compile(r"^(?:[A-ZÀ-Ỹ][A-ZÀ-Ỹ .'-]{1,30}\s)?\(\s*[^()\n]{2,30}\s*\)\s*[-–—]+\s*(?=\S)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u2060\ufeff\ufffe]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_TRAILING_PIPES = re.compile(r"(?:\s*\|)+\s*$")
_SENTENCE_END = re.compile(r"[.!?…:;\"”»’)]$")
_ELLIPSIS_END = re.compile(r"(?:\.\.\.|…)$")

BODY_LINE_CHARS = 80  # a paragraph of the story, as opposed to a headline or a label
MAX_LINK_LINE_CHARS = 160  # a headline in a block of links
MAX_BYLINE_WORDS = 6


def clean_article_text(text: str) -> str:
    """Remove related-links blocks, credits, captions, widget text and control characters.

    Returns NFC text with one paragraph per line and no empty lines.

    >>> clean_article_text("Bộ trưởng hội đàm với người đồng cấp Nga tại Moskva hôm nay.\\n"
    ...                    "(TTXVN)\\nTIN LIÊN QUAN\\nTrường mầm non Nga Tiến\\nnull")
    'Bộ trưởng hội đàm với người đồng cấp Nga tại Moskva hôm nay.'
    """
    if not text:
        return ""
    lines, pipe_ended = _split_lines(text)
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        heading = _heading_kind(line)
        if heading:
            end_of_links = _skip_link_lines(lines, index + 1)
            if kept and _is_trailing_block(heading, kept, lines[end_of_links:]):
                break
            index = end_of_links
            continue
        if _INLINE_POINTER.match(line) and len(line) <= 2 * MAX_LINK_LINE_CHARS:
            index += 1
            continue
        if _is_junk(line) or _is_caption(line) or (pipe_ended[index] and _ELLIPSIS_END.search(line)):
            index += 1
            continue
        kept.append(line)
        index += 1
    kept = _drop_trailing_credits(kept)
    return "\n".join(line for line in kept if line)


def strip_dateline(line: str) -> str:
    """The lead without the outlet's dateline: "(Dân trí) - Giá vàng…" -> "Giá vàng…".

    Used to recognise a lead whatever the dateline; the cleaned text keeps it."""
    return _LEADING_DATELINE.sub("", line, count=1)


def _split_lines(text: str) -> tuple[list[str], list[bool]]:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    lines: list[str] = []
    pipe_ended: list[bool] = []
    for raw in text.split("\n"):
        line = _SPACES.sub(" ", raw).strip()
        stripped = _TRAILING_PIPES.sub("", line)
        line = stripped.strip()
        if line:
            lines.append(line)
            pipe_ended.append(stripped != _SPACES.sub(" ", raw).strip())
    return lines, pipe_ended


def _key(line: str) -> str:
    return line.strip(" :>»|-–—").casefold()


def _heading_kind(line: str) -> str | None:
    key = _key(line)
    if key in _STRONG_HEADINGS:
        return "strong"
    if key in _WEAK_HEADINGS:
        return "weak"
    return None


def _is_body_line(line: str) -> bool:
    return len(line) >= 2 * BODY_LINE_CHARS or (len(line) >= BODY_LINE_CHARS and bool(_SENTENCE_END.search(line)))


def _is_link_line(line: str) -> bool:
    """A headline or a time stamp in a block of links: short and not a sentence."""
    if _is_junk(line):
        return True
    return len(line) <= MAX_LINK_LINE_CHARS and not _is_body_line(line)


def _skip_link_lines(lines: list[str], start: int) -> int:
    index = start
    while index < len(lines) and _is_link_line(lines[index]) and not _heading_kind(lines[index]):
        index += 1
    return index


def _is_trailing_block(kind: str, before: list[str], after: list[str]) -> bool:
    """Does a heading met after the story's text start the page's trailing furniture?

    Yes when no paragraph of story text follows its links; for a strong heading also
    when what follows is shorter than the story above it (teaser paragraphs of other
    stories look like prose, but they come after the story, not before most of it).
    """
    if not any(_is_body_line(line) for line in after):
        return True
    if kind == "strong":
        return sum(len(line) for line in before) >= sum(len(line) for line in after)
    return False


def _is_junk(line: str) -> bool:
    if not any(char.isalnum() for char in line):  # "|", "***", "�"
        return True
    key = line.casefold()
    if key in _JUNK_LINES:
        return True
    if len(line) <= 120 and any(pattern.match(line) for pattern in _JUNK_PATTERNS):
        return True
    if _WIRE_CREDIT.match(line) or _SOURCE_CREDIT.match(line) or _PHOTO_CREDIT.match(line):
        return True
    return False


def _is_caption(line: str) -> bool:
    return len(line) <= MAX_CAPTION_CHARS and bool(_CAPTION.search(line))


def _drop_trailing_credits(lines: list[str]) -> list[str]:
    """Drop "Theo VGP News", "Reporting by …", bylines such as "Hà Thu (tổng hợp)" and the
    outlet's name ("Đại Đoàn kết") from the end of the text."""
    dropped = 0
    while len(lines) > 1 and dropped < 3:
        last = lines[-1]
        words = last.split()
        is_credit = (bool(_THEO_CREDIT.match(last)) and len(words) <= 8) or bool(_AGENCY_CREDIT.match(last))
        is_byline = (
            len(words) <= MAX_BYLINE_WORDS
            and not _SENTENCE_END.search(last)
            and not last[0].isdigit()
            and last[0] not in "-•*+–"
        ) or bool(_COMPILED_BYLINE.search(last) and len(words) <= MAX_BYLINE_WORDS + 3)
        if not (is_credit or is_byline):
            break
        lines = lines[:-1]
        dropped += 1
    return lines
