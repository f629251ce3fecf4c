"""What the demo site is made of: outlets, articles and their text blocks.

These frozen dataclasses are also what tests assert against (``DemoSite.outlets``,
``DemoSite.articles``), so they carry the ground truth a crawl should recover: the
clean body text, its first and last sentences, the publication time, and for
republished copies the story they belong to.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

# Kinds of article. "seed": one of the five seed stories; "copy": the same story
# republished by another outlet; "ontopic": other Vietnam–Russia defence news;
# "offtopic": everything else, traps included; "old": on topic but published
# before the crawl window; "synthetic": generated for benchmarks (scale > 1).
KINDS = ("seed", "copy", "ontopic", "offtopic", "old", "synthetic")


@dataclass(frozen=True)
class Section:
    key: str  # what articles.json refers to, e.g. "defence"
    slug: str  # URL segment, e.g. "quoc-phong-an-ninh"
    name: str  # menu label, e.g. "Quốc phòng - An ninh"


@dataclass(frozen=True)
class OutletStyle:
    """How one outlet's pages look; every field is a variation real sites show."""

    url_template: str  # article path, with {section}, {slug} and {id}
    id_base: int  # first numeric article id
    feed_format: str  # "rss" (rss.xml) or "atom" (atom.xml)
    pagination: str  # "query" (/x/?page=2) or "path" (/x/page/2/)
    date_style: str  # see crawler.demo_site.date_formats
    published_meta: bool  # <meta property="article:published_time"> and JSON-LD
    charset: str  # encoding of the HTML pages
    related_heading: str  # "TIN LIÊN QUAN", "Читайте также", ...
    related_inline: bool  # a related-links box inside the article body
    author_position: str  # "top" (under the title) or "bottom" (after the body)
    junk_after_body: str | None  # e.g. a lone "null" left by the CMS
    today_in_header: bool  # header shows today's date (a date trap)
    feed_link_query: str  # query string added to links in the feed (utm_*)
    private_link: str | None  # title of a link to /private/secret.html on the listing
    sections: tuple[Section, ...]
    footer: tuple[str, ...]


@dataclass(frozen=True)
class Outlet:
    """One news outlet of the demo site, served under ``/<name>/``."""

    name: str
    title: str
    short_name: str
    lang: str  # "vi", "en" or "ru"
    wire: bool  # a wire service: the canonical source of the stories it files
    utc_offset: str  # "+07:00": offset of the times printed on its pages
    article_pattern: str | None  # regex for its article URLs, for the config
    base_url: str
    style: OutletStyle

    @property
    def prefix(self) -> str:
        return f"/{self.name}/"

    @property
    def feed_path(self) -> str:
        return f"/{self.name}/{'atom' if self.style.feed_format == 'atom' else 'rss'}.xml"

    @property
    def sitemap_path(self) -> str:
        return f"/{self.name}/sitemap.xml"

    @property
    def listing_url(self) -> str:
        return self.base_url + self.prefix

    @property
    def feed_url(self) -> str:
        return self.base_url + self.feed_path

    @property
    def sitemap_url(self) -> str:
        return self.base_url + self.sitemap_path

    @property
    def tz(self) -> timezone:
        sign = -1 if self.utc_offset.startswith("-") else 1
        hours, minutes = self.utc_offset[1:].split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))

    def section(self, key: str) -> Section:
        for section in self.style.sections:
            if section.key == key:
                return section
        raise KeyError(f"outlet {self.name!r} has no section {key!r}")

    def article_path(self, section_key: str, title: str, number: int) -> str:
        """The path of this outlet's article number ``number`` (0-based, stable)."""
        return self.style.url_template.format(
            section=self.section(section_key).slug,
            slug=slugify(title),
            id=self.style.id_base + 17 * number,
        )


@dataclass(frozen=True)
class Block:
    kind: str  # "p" (paragraph) or "h2" (subheading)
    text: str


@dataclass(frozen=True)
class Photo:
    caption: str
    credit: str  # "Ảnh: Duy Trinh/TTXVN"


@dataclass(frozen=True)
class DemoArticle:
    """One article page of the demo site, with the truth about it."""

    id: str  # content id, e.g. "s3-vnx"; synthetic ones "syn-00042"
    outlet: str
    lang: str
    kind: str  # one of KINDS
    story: str  # copies share their original's story id
    copy_of: str | None  # id of the original, for copies
    relevant: bool  # on topic (Vietnam–Russia defence cooperation)
    title: str
    published: datetime  # timezone-aware, UTC, whole minutes
    url: str
    path: str
    section: str  # section key
    author: str | None
    credit: str | None  # credit line after the body: "Theo TTXVN"
    photo: Photo | None
    blocks: tuple[Block, ...]  # the clean body
    in_listing: bool = True  # False: only in feed and sitemap (the old article)

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(block.text for block in self.blocks if block.kind == "p")

    @property
    def text(self) -> str:
        """The clean body as a reader sees it: subheadings and paragraphs, no credit."""
        return "\n\n".join(block.text for block in self.blocks)

    @property
    def first_sentence(self) -> str:
        """The first real sentence of the body (a dateline like "МОСКВА, 14 августа. /ТАСС/." is skipped)."""
        sentences = split_sentences(self.paragraphs[0])
        return next((s for s in sentences if len(s.split()) >= 5), sentences[0])

    @property
    def last_sentence(self) -> str:
        return split_sentences(self.paragraphs[-1])[-1]


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph after ``.``, ``!``, ``?`` or ``…`` when the next word starts a sentence."""
    sentences: list[str] = []
    for chunk in re.split(r"(?<=[.!?…])\s+", paragraph.strip()):
        starts_sentence = chunk[:1].isupper() or chunk[:1] in "«\"“("
        if sentences and not starts_sentence:
            sentences[-1] += " " + chunk
        else:
            sentences.append(chunk)
    return sentences


def slugify(title: str) -> str:
    """ASCII URL slug of a Vietnamese or English title ("Hợp tác quốc phòng" -> "hop-tac-quoc-phong")."""
    folded = unicodedata.normalize("NFKD", title.replace("đ", "d").replace("Đ", "D"))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")
    return slug[:80].rstrip("-") or "bai-viet"
