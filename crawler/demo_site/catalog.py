"""The demo site's catalogue: content files turned into dated, addressed articles.

The content lives next to this module:

- ``content/outlets.json``: the outlets, their URL schemes and page styles;
- ``content/articles.json``: one entry per article (outlet, kind, title, age, photo,
  credit); a copy names its original (``copy_of``) and how it was edited
  (``trim_last_paragraph``, ``replace``, another ``credit``);
- ``content/texts/<id>.txt``: article bodies, paragraphs separated by blank lines,
  ``## `` starting a subheading, ``{dateline}`` standing for the publication day;
- ``content/ui.json``: interface words per language.

Publication times are relative to the moment the site starts (``age`` in
articles.json), so tests that use the site never age.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crawler.demo_site import synthetic
from crawler.demo_site.date_formats import DATE_STYLES, dateline
from crawler.demo_site.model import KINDS, Block, DemoArticle, Outlet, OutletStyle, Photo, Section

CONTENT_DIR = Path(__file__).parent / "content"
RELEVANT_KINDS = frozenset({"seed", "copy", "ontopic", "old"})
_AGE_PART = re.compile(r"(\d+)\s*([dhm])")


@dataclass(frozen=True)
class Content:
    """The parsed content files: everything about the site that does not depend on time or address."""

    outlets: tuple[dict[str, Any], ...]
    entries: tuple[dict[str, Any], ...]
    texts: dict[str, tuple[Block, ...]]
    ui: dict[str, dict[str, str]]
    numbers: dict[str, int]  # entry id -> its stable number within its outlet


@functools.cache
def load_content() -> Content:
    """Read and check the content files once per process."""
    outlets = tuple(_read_json("outlets.json")["outlets"])
    entries = tuple(_read_json("articles.json")["articles"])
    ui = {lang: words for lang, words in _read_json("ui.json").items() if not lang.startswith("_")}
    texts = {
        path.stem: parse_blocks(path.read_text(encoding="utf-8"))
        for path in sorted((CONTENT_DIR / "texts").glob("*.txt"))
    }
    numbers: dict[str, int] = {}
    per_outlet: dict[str, int] = {}
    for entry in entries:
        numbers[entry["id"]] = per_outlet.get(entry["outlet"], 0)
        per_outlet[entry["outlet"]] = numbers[entry["id"]] + 1
    content = Content(outlets=outlets, entries=entries, texts=texts, ui=ui, numbers=numbers)
    _check_content(content)
    return content


def parse_blocks(text: str) -> tuple[Block, ...]:
    """Split a body text file into paragraphs and ``## `` subheadings."""
    blocks = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        chunk = " ".join(chunk.split())
        if chunk.startswith("## "):
            blocks.append(Block("h2", chunk[3:]))
        elif chunk:
            blocks.append(Block("p", chunk))
    return tuple(blocks)


def parse_age(text: str) -> timedelta:
    """``"1d 2h 35m"`` -> timedelta; how long before the site started an article appeared."""
    parts = _AGE_PART.findall(text)
    if not parts or _AGE_PART.sub("", text).strip():
        raise ValueError(f"age {text!r}: expected days, hours and minutes such as \"1d 2h 35m\"")
    units = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
    return sum((int(number) * units[unit] for number, unit in parts), timedelta())


@dataclass
class Catalog:
    """Every outlet and published article of one running site, with the lookups its pages need."""

    base_url: str
    started: datetime  # aware UTC, whole minutes: "now" for the site's relative dates
    outlets: tuple[Outlet, ...]
    articles: tuple[DemoArticle, ...]  # newest first
    pending: tuple[dict[str, Any], ...] = ()
    ui: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_path = {article.path: article for article in self.articles}
        self.by_id = {article.id: article for article in self.articles}
        self.by_outlet: dict[str, list[DemoArticle]] = {outlet.name: [] for outlet in self.outlets}
        self.link_pools: dict[str, list[DemoArticle]] = {outlet.name: [] for outlet in self.outlets}
        for article in self.articles:
            self.by_outlet[article.outlet].append(article)
            if article.kind not in ("old", "synthetic"):
                self.link_pools[article.outlet].append(article)
        self._outlets = {outlet.name: outlet for outlet in self.outlets}

    def outlet(self, name: str) -> Outlet | None:
        return self._outlets.get(name)

    def listed(self, outlet: str, section: str | None = None) -> list[DemoArticle]:
        """Articles shown on an outlet's (or one section's) listing pages, newest first."""
        return [
            article
            for article in self.by_outlet[outlet]
            if article.in_listing and (section is None or article.section == section)
        ]

    def with_pending_published(self, now: datetime) -> Catalog:
        """A catalogue in which the pending articles have just been published."""
        now = now.replace(second=0, microsecond=0)
        content = load_content()
        new = []
        for offset, entry in enumerate(self.pending):
            outlet = self._outlets[entry["outlet"]]
            new.append(_build_article(entry, outlet, now - timedelta(minutes=offset), content, self.by_id))
        articles = tuple(sorted(self.articles + tuple(new), key=_newest_first))
        return Catalog(self.base_url, self.started, self.outlets, articles, (), self.ui)


def build_catalog(base_url: str, started: datetime, scale: int = 1) -> Catalog:
    """Date and address every article for a site at ``base_url`` that starts at ``started``.

    ``scale`` > 1 adds ``4 * (scale - 1)`` synthetic articles per outlet (see
    :mod:`crawler.demo_site.synthetic`).
    """
    if scale < 1:
        raise ValueError(f"scale must be at least 1, got {scale}")
    started = started.replace(second=0, microsecond=0)
    content = load_content()
    outlets = tuple(_build_outlet(raw, base_url) for raw in content.outlets)
    by_name = {outlet.name: outlet for outlet in outlets}
    built: dict[str, DemoArticle] = {}
    live = [entry for entry in content.entries if not entry.get("pending")]
    # originals first, so that copies find them
    for entry in sorted(live, key=lambda entry: entry["kind"] == "copy"):
        published = started - parse_age(entry["age"])
        built[entry["id"]] = _build_article(entry, by_name[entry["outlet"]], published, content, built)
    base = list(built.values())
    next_numbers = {name: sum(1 for e in content.entries if e["outlet"] == name) for name in by_name}
    extra = synthetic.synthetic_articles(outlets, base, started, scale, next_numbers)
    articles = tuple(sorted(base + extra, key=_newest_first))
    pending = tuple(entry for entry in content.entries if entry.get("pending"))
    return Catalog(base_url, started, outlets, articles, pending, content.ui)


def _newest_first(article: DemoArticle) -> tuple:
    return (-article.published.timestamp(), article.id)


def _build_outlet(raw: dict[str, Any], base_url: str) -> Outlet:
    style = dict(raw["style"])
    style["sections"] = tuple(Section(*section) for section in style["sections"])
    style["footer"] = tuple(style["footer"])
    fields = {key: value for key, value in raw.items() if key != "style"}
    return Outlet(**fields, base_url=base_url, style=OutletStyle(**style))


def _build_article(
    entry: dict[str, Any],
    outlet: Outlet,
    published: datetime,
    content: Content,
    known: dict[str, DemoArticle],
) -> DemoArticle:
    """One dated, addressed article from its articles.json entry."""
    photo = Photo(**entry["photo"]) if entry.get("photo") else None
    if entry["kind"] == "copy":
        original = known[entry["copy_of"]]
        blocks = _edit_copy(original.blocks, entry)
        story = original.story
        if "photo" not in entry:
            photo = original.photo
    else:
        day = dateline(published.astimezone(outlet.tz), outlet.lang)
        blocks = tuple(Block(b.kind, b.text.replace("{dateline}", day)) for b in content.texts[entry["id"]])
        story = entry["id"]
    path = outlet.article_path(entry["section"], entry["title"], content.numbers[entry["id"]])
    return DemoArticle(
        id=entry["id"],
        outlet=outlet.name,
        lang=outlet.lang,
        kind=entry["kind"],
        story=story,
        copy_of=entry.get("copy_of"),
        relevant=entry["kind"] in RELEVANT_KINDS,
        title=entry["title"],
        published=published,
        url=outlet.base_url + path,
        path=path,
        section=entry["section"],
        author=entry.get("author"),
        credit=entry.get("credit"),
        photo=photo,
        blocks=blocks,
        in_listing=entry["kind"] != "old",
    )


def _edit_copy(blocks: tuple[Block, ...], entry: dict[str, Any]) -> tuple[Block, ...]:
    """A republisher's edit of the original body: text replacements, the last paragraph cut."""
    edited = list(blocks)
    for old, new in entry.get("replace", []):
        edited = [Block(block.kind, block.text.replace(old, new)) for block in edited]
    if entry.get("trim_last_paragraph"):
        edited.pop()
        while edited and edited[-1].kind != "p":
            edited.pop()
    return tuple(edited)


def _read_json(name: str) -> dict[str, Any]:
    with open(CONTENT_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)


def _check_content(content: Content) -> None:
    """Fail loudly on a content mistake instead of serving a broken site."""
    outlets = {raw["name"]: raw for raw in content.outlets}
    for raw in content.outlets:
        style = raw["style"]
        if style["date_style"] not in DATE_STYLES:
            raise ValueError(f"outlets.json: {raw['name']}: unknown date_style {style['date_style']!r}")
        if raw["lang"] not in content.ui:
            raise ValueError(f"outlets.json: {raw['name']}: no interface words for language {raw['lang']!r}")
    ids = [entry["id"] for entry in content.entries]
    for entry in content.entries:
        where = f"articles.json: {entry['id']}"
        if ids.count(entry["id"]) > 1:
            raise ValueError(f"{where}: duplicate id")
        if entry["kind"] not in KINDS or entry["kind"] == "synthetic":
            raise ValueError(f"{where}: unknown kind {entry['kind']!r}")
        if entry["outlet"] not in outlets:
            raise ValueError(f"{where}: unknown outlet {entry['outlet']!r}")
        sections = [section[0] for section in outlets[entry["outlet"]]["style"]["sections"]]
        if entry["section"] not in sections:
            raise ValueError(f"{where}: outlet {entry['outlet']} has no section {entry['section']!r}")
        if entry["kind"] == "copy":
            if entry.get("copy_of") not in ids:
                raise ValueError(f"{where}: copy_of names no article")
        elif entry["id"] not in content.texts:
            raise ValueError(f"{where}: missing texts/{entry['id']}.txt")
        if not entry.get("pending"):
            parse_age(entry["age"])
