"""Every page of the demo site, rendered on request from the catalogue with Jinja2.

:meth:`SiteRenderer.page` maps a request path (and its query string) to a
:class:`Page` or ``None`` (404). The site's URL space:

==================================  ===========================================
``/``                               index of the outlets
``/robots.txt``                     allows everything but ``/private/``
``/sitemap_index.xml``              points at every outlet's news sitemap
``/private/secret.html``            disallowed by robots.txt, yet linked from a
                                    listing and listed in a sitemap (qdnd)
``/static/...``                     stylesheet, scripts, placeholder images
``/<outlet>/``                      listing, 5 articles a page; page 2 is
                                    ``?page=2`` or ``page/2/`` (outlet's style)
``/<outlet>/<section>/``            a section's listing, same pagination
``/<outlet>/rss.xml`` (or atom.xml) the outlet's feed, every article
``/<outlet>/sitemap.xml``           Google News sitemap, every article (qdnd's
                                    also lists the private page, dated now)
article paths                       as the outlet's ``url_template`` says
==================================  ===========================================

Unknown query parameters (``utm_*`` and the like) are ignored, as real sites do.
Pages are rendered once and kept in an LRU cache; the catalogue never changes
under a renderer (publishing pending articles makes a new renderer).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from crawler.demo_site import date_formats
from crawler.demo_site.catalog import Catalog
from crawler.demo_site.model import DemoArticle, Outlet, Section

TEMPLATES_DIR = Path(__file__).parent / "templates"
PAGE_SIZE = 5
RELATED_COUNT = 4
MOST_READ_COUNT = 5
PRIVATE_PATH = "/private/secret.html"

_GIF_1X1 = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")
_STATIC = {
    "/static/site.css": (
        b"body{font-family:Arial,sans-serif;margin:0}.container{display:flex;gap:24px;max-width:1160px;"
        b"margin:auto}.col-main{flex:1}.col-side{width:300px}.ads{min-height:90px;background:#f4f4f4}\n",
        "text/css; charset=utf-8",
    ),
    "/static/app.js": (
        b"document.querySelectorAll('.share').forEach(function(a){a.addEventListener('click',"
        b"function(e){e.preventDefault();});});\n",
        "text/javascript; charset=utf-8",
    ),
    "/static/ads.js": (b"window.adsbygoogle = window.adsbygoogle || [];\n", "text/javascript; charset=utf-8"),
}


@dataclass(frozen=True)
class Page:
    """A rendered response body with what conditional GET needs."""

    body: bytes
    content_type: str
    last_modified: datetime  # aware, whole seconds
    etag: str  # quoted strong validator


@functools.cache
def template_environment() -> Environment:
    """Jinja2 environment of the site: autoescaping for .html and .xml templates."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(("html", "xml")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["toml"] = lambda value: json.dumps(value, ensure_ascii=False)
    return environment


def render_text(template: str, **context: Any) -> str:
    """Render one template of the site to a string."""
    return template_environment().get_template(template).render(**context)


class SiteRenderer:
    """Renders the pages of one catalogue."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._cached_route = functools.lru_cache(maxsize=2048)(self._route)

    def page(self, path: str, query: str = "") -> Page | None:
        """The page at ``path`` (``query`` is the raw query string), or None for a 404."""
        values = parse_qs(query).get("page")
        if values is None:
            requested = None
        else:
            requested = int(values[0]) if values[0].isdigit() else 0
        return self._cached_route(path, requested)

    # --- routing -------------------------------------------------------------

    def _route(self, path: str, requested_page: int | None) -> Page | None:
        catalog = self.catalog
        if path == "/":
            return self._html(None, "index.html", catalog.started, outlets=catalog.outlets)
        if path == "/robots.txt":
            body = render_text("robots.txt", base_url=catalog.base_url)
            return _page(body, "text/plain; charset=utf-8", catalog.started)
        if path == "/sitemap_index.xml":
            return self._sitemap_index()
        if path == PRIVATE_PATH:
            return self._html(None, "private.html", catalog.started)
        if path in _STATIC or (path.startswith("/static/img/") and path.endswith(".gif")):
            body, content_type = _STATIC.get(path, (_GIF_1X1, "image/gif"))
            return Page(body, content_type, catalog.started, _etag(body))
        article = catalog.by_path.get(path)
        if article is not None:
            return self._article(article)
        parts = path.split("/")  # "/vnx/page/2/" -> ["", "vnx", "page", "2", ""]
        outlet = catalog.outlet(parts[1]) if len(parts) > 2 else None
        if outlet is None:
            return None
        rest = parts[2:]
        if rest == [outlet.feed_path.rsplit("/", 1)[1]]:
            return self._feed(outlet)
        if rest == ["sitemap.xml"]:
            return self._sitemap(outlet)
        return self._route_listing(outlet, rest, requested_page)

    def _route_listing(self, outlet: Outlet, rest: list[str], requested_page: int | None) -> Page | None:
        if rest[-1] != "":  # listing paths end with a slash
            return None
        rest = rest[:-1]
        section = next((s for s in outlet.style.sections if rest and rest[0] == s.slug), None)
        if section is not None:
            rest = rest[1:]
        if outlet.style.pagination == "path":
            if not rest:
                number = 1
            elif len(rest) == 2 and rest[0] == "page" and rest[1].isdigit():
                number = int(rest[1])
            else:
                return None
        else:
            if rest:
                return None
            number = 1 if requested_page is None else requested_page
        return self._listing(outlet, section, number)

    # --- pages ---------------------------------------------------------------

    def _article(self, article: DemoArticle) -> Page:
        outlet = self.catalog.outlet(article.outlet)
        local = article.published.astimezone(outlet.tz)
        section = outlet.section(article.section)
        related = self._related(article)
        json_ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": article.title,
            "datePublished": local.isoformat(),
            "author": {"@type": "Person", "name": article.author or outlet.short_name},
            "publisher": {"@type": "Organization", "name": outlet.title},
            "mainEntityOfPage": article.url,
        }
        return self._html(
            outlet,
            "article.html",
            article.published,
            article=article,
            section=section,
            section_url=self._listing_url(outlet, section, 1),
            date_line=date_formats.article_date(local, outlet.style.date_style),
            published_iso=local.isoformat(),
            json_ld=json_ld,
            body=_body_sequence(article, outlet),
            photo_url=f"{self.catalog.base_url}/static/img/{article.id}.gif",
            related=[self._item(outlet, other) for other in related],
            most_read=[self._item(outlet, other) for other in self._most_read(outlet, article.story)],
        )

    def _listing(self, outlet: Outlet, section: Section | None, number: int) -> Page | None:
        articles = self.catalog.listed(outlet.name, section.key if section else None)
        pages = max(1, math.ceil(len(articles) / PAGE_SIZE))
        if not 1 <= number <= pages:
            return None
        shown = articles[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        window = range(max(1, number - 2), min(pages, number + 2) + 1)
        ui = self.catalog.ui[outlet.lang]
        private_link = outlet.style.private_link if number == 1 and section is None else None
        return self._html(
            outlet,
            "listing.html",
            articles[0].published if articles else self.catalog.started,
            heading=section.name if section else ui["latest"],
            page_number=number,
            canonical=self._listing_url(outlet, section, number),
            next_url=self._listing_url(outlet, section, number + 1) if number < pages else None,
            prev_url=self._listing_url(outlet, section, number - 1) if number > 1 else None,
            page_links=[(n, self._listing_url(outlet, section, n)) for n in window],
            items=[self._item(outlet, article, with_summary=True) for article in shown],
            private_link=private_link,
            private_url=self.catalog.base_url + PRIVATE_PATH,
            most_read=[self._item(outlet, other) for other in self._most_read(outlet, None)],
        )

    def _feed(self, outlet: Outlet) -> Page:
        articles = self.catalog.by_outlet[outlet.name]
        query = outlet.style.feed_link_query
        items = []
        for article in articles:
            local = article.published.astimezone(outlet.tz)
            items.append({
                "title": article.title,
                "url": article.url,
                "link": f"{article.url}?{query}" if query else article.url,
                "author": article.author or outlet.short_name,
                "summary": _summary(article),
                "rfc822": date_formats.rfc822(local),
                "iso": local.isoformat(),
            })
        updated = articles[0].published if articles else self.catalog.started
        atom = outlet.style.feed_format == "atom"
        body = render_text(
            "atom.xml" if atom else "rss.xml",
            outlet=outlet,
            items=items,
            updated_iso=updated.astimezone(outlet.tz).isoformat(),
            updated_rfc822=date_formats.rfc822(updated.astimezone(outlet.tz)),
        )
        content_type = "application/atom+xml" if atom else "application/rss+xml"
        return _page(body, f"{content_type}; charset=utf-8", updated)

    def _sitemap(self, outlet: Outlet) -> Page:
        articles = self.catalog.by_outlet[outlet.name]
        entries = [
            {
                "url": article.url,
                "iso": article.published.astimezone(outlet.tz).isoformat(),
                "title": article.title,
            }
            for article in articles
        ]
        if outlet.style.private_link:
            # Sites do list pages their robots.txt forbids; only robots.txt keeps a crawler out.
            entries.insert(0, {
                "url": self.catalog.base_url + PRIVATE_PATH,
                "iso": (self.catalog.started - timedelta(hours=1)).astimezone(outlet.tz).isoformat(),
                "title": outlet.style.private_link,
            })
        updated = articles[0].published if articles else self.catalog.started
        body = render_text("sitemap.xml", outlet=outlet, entries=entries)
        return _page(body, "application/xml; charset=utf-8", updated)

    def _sitemap_index(self) -> Page:
        sitemaps = []
        for outlet in self.catalog.outlets:
            articles = self.catalog.by_outlet[outlet.name]
            updated = articles[0].published if articles else self.catalog.started
            sitemaps.append({"url": outlet.sitemap_url, "iso": updated.astimezone(outlet.tz).isoformat()})
        newest = max((a.published for a in self.catalog.articles), default=self.catalog.started)
        body = render_text("sitemap_index.xml", sitemaps=sitemaps)
        return _page(body, "application/xml; charset=utf-8", newest)

    # --- pieces --------------------------------------------------------------

    def _html(self, outlet: Outlet | None, template: str, last_modified: datetime, **context: Any) -> Page:
        charset = outlet.style.charset if outlet else "utf-8"
        if outlet is not None:
            context.update(self._chrome(outlet))
        context.setdefault("base_url", self.catalog.base_url)
        body = render_text(template, outlet=outlet, **context)
        return _page(body, f"text/html; charset={charset}", last_modified, charset)

    def _chrome(self, outlet: Outlet) -> dict[str, Any]:
        """What every page of an outlet shows around its content: menu, header date, footer."""
        started = self.catalog.started.astimezone(outlet.tz)
        return {
            "ui": self.catalog.ui[outlet.lang],
            "nav": [(section.name, self._listing_url(outlet, section, 1)) for section in outlet.style.sections],
            "today": date_formats.header_date(started, outlet.lang) if outlet.style.today_in_header else None,
            "year": started.year,
            "feed_type": "application/atom+xml" if outlet.style.feed_format == "atom" else "application/rss+xml",
        }

    def _listing_url(self, outlet: Outlet, section: Section | None, number: int) -> str:
        path = outlet.prefix + (f"{section.slug}/" if section else "")
        if number > 1:
            path += f"page/{number}/" if outlet.style.pagination == "path" else f"?page={number}"
        return self.catalog.base_url + path

    def _item(self, outlet: Outlet, article: DemoArticle, with_summary: bool = False) -> dict[str, str]:
        """A link to ``article`` as ``outlet`` shows it in a list: title, URL, date in its style."""
        item = {
            "title": article.title,
            "url": article.url,
            "date": date_formats.short_date(article.published.astimezone(outlet.tz), outlet.style.date_style),
            "image": f"{self.catalog.base_url}/static/img/{article.id}.gif",
        }
        if with_summary:
            item["summary"] = _summary(article)
        return item

    def _related(self, article: DemoArticle) -> list[DemoArticle]:
        """Related links: other stories of the same outlet, in a per-article order."""
        pool = [other for other in self.catalog.link_pools[article.outlet] if other.story != article.story]
        return _rotated(pool, f"related/{article.id}")[:RELATED_COUNT]

    def _most_read(self, outlet: Outlet, story: str | None) -> list[DemoArticle]:
        pool = [other for other in self.catalog.link_pools[outlet.name] if other.story != story]
        return _rotated(pool, f"most-read/{story}")[:MOST_READ_COUNT]


def _rotated(articles: list[DemoArticle], key: str) -> list[DemoArticle]:
    """``articles`` rotated by a stable amount derived from ``key``, so boxes differ between pages."""
    if not articles:
        return []
    turn = zlib.crc32(key.encode()) % len(articles)
    return articles[turn:] + articles[:turn]


def _body_sequence(article: DemoArticle, outlet: Outlet) -> list[dict[str, str]]:
    """The article body as the template lays it out: lead, photo, paragraphs, boxes, an ad."""
    sequence = []
    for index, block in enumerate(article.blocks):
        kind = "lead" if index == 0 and block.kind == "p" else block.kind
        sequence.append({"kind": kind, "text": block.text})
        if index == 0 and article.photo is not None:
            sequence.append({"kind": "photo"})
        if index == 2 and outlet.style.related_inline:
            sequence.append({"kind": "related"})
        if index == 3:
            sequence.append({"kind": "ad"})
    return sequence


def _summary(article: DemoArticle, limit: int = 220) -> str:
    lead = article.paragraphs[0]
    if len(lead) <= limit:
        return lead
    return lead[:limit].rsplit(" ", 1)[0] + "…"


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def _page(text: str, content_type: str, last_modified: datetime, charset: str = "utf-8") -> Page:
    body = text.encode(charset, errors="xmlcharrefreplace")
    return Page(body, content_type, last_modified.replace(microsecond=0), _etag(body))
