"""Dates as the demo outlets print them, and as feeds, sitemaps and HTTP want them.

Article pages use the outlet's style (``date_style`` in outlets.json):

========== =============================================
vi_weekday ``Thứ Tư, 14/8/2024 - 10:30 (GMT+7)``
vi_numeric ``14/08/2024 10:30``
ru         ``14 августа 2024, 10:30``
en         ``August 14, 2024 - 10:30 (GMT+7)``
========== =============================================

Listings and related-link boxes use a shorter form of the same style. All
functions take an aware datetime already converted to the outlet's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

VI_WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
RU_WEEKDAYS = ("Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота", "Воскресенье")
EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
RU_MONTHS_GENITIVE = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)
DATE_STYLES = ("vi_weekday", "vi_numeric", "ru", "en")


def gmt_label(moment: datetime) -> str:
    """``GMT+7`` for a datetime at UTC+07:00."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"GMT{sign}{hours}" + (f":{rest:02d}" if rest else "")


def article_date(moment: datetime, style: str) -> str:
    """The date line under an article's title."""
    clock = f"{moment:%H:%M}"
    if style == "vi_weekday":
        weekday = VI_WEEKDAYS[moment.weekday()]
        return f"{weekday}, {moment.day}/{moment.month}/{moment.year} - {clock} ({gmt_label(moment)})"
    if style == "vi_numeric":
        return f"{moment:%d/%m/%Y} {clock}"
    if style == "ru":
        return f"{moment.day} {RU_MONTHS_GENITIVE[moment.month - 1]} {moment.year}, {clock}"
    if style == "en":
        return f"{EN_MONTHS[moment.month - 1]} {moment.day}, {moment.year} - {clock} ({gmt_label(moment)})"
    raise ValueError(f"unknown date style {style!r} (known: {', '.join(DATE_STYLES)})")


def short_date(moment: datetime, style: str) -> str:
    """The date next to a title in listings and related-link boxes."""
    if style in ("vi_weekday", "vi_numeric"):
        return f"{moment:%H:%M} | {moment:%d/%m/%Y}"
    if style == "ru":
        return f"{moment:%d.%m.%Y}, {moment:%H:%M}"
    if style == "en":
        return f"{EN_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"
    raise ValueError(f"unknown date style {style!r} (known: {', '.join(DATE_STYLES)})")


def header_date(moment: datetime, lang: str) -> str:
    """Today's date as a site header shows it."""
    if lang == "vi":
        return f"{VI_WEEKDAYS[moment.weekday()]}, {moment.day}/{moment.month}/{moment.year}"
    if lang == "ru":
        return f"{RU_WEEKDAYS[moment.weekday()]}, {moment.day} {RU_MONTHS_GENITIVE[moment.month - 1]} {moment.year}"
    return f"{EN_WEEKDAYS[moment.weekday()]}, {EN_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


def dateline(moment: datetime, lang: str) -> str:
    """Day and month for a wire dateline: ``14 августа`` ("МОСКВА, 14 августа. /ТАСС/.")."""
    if lang == "ru":
        return f"{moment.day} {RU_MONTHS_GENITIVE[moment.month - 1]}"
    if lang == "vi":
        return f"{moment.day}/{moment.month}"
    return f"{EN_MONTHS[moment.month - 1]} {moment.day}"


def rfc822(moment: datetime) -> str:
    """RSS ``pubDate``: ``Wed, 14 Aug 2024 10:30:00 +0700``."""
    return format_datetime(moment)


def http_date(moment: datetime) -> str:
    """HTTP ``Last-Modified``: ``Wed, 14 Aug 2024 03:30:00 GMT``."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)
