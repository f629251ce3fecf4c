"""The bundled local replay news site: ``make demo``'s target and the tests' fixture.

One HTTP server on 127.0.0.1 hosts six outlets under their own path prefixes:
``/qdnd/``, ``/vgp/``, ``/vnx/`` (Vietnamese), ``/ttxvn/`` and ``/tass/`` (wire
services, Vietnamese and Russian) and ``/vnplus-en/`` (English). Each has a feed,
a Google News sitemap and paginated listings; the article pages look like real
news pages (menus, breadcrumb, date line, photo with caption, credit line,
related-links boxes with other dates, comments, ads, scripts).

The content: the five seed stories, republished copies of some of them
(near-duplicates), on-topic English and Russian articles, off-topic articles and
traps ("Trường mầm non Nga Tiến", "Pembrolizumab của Nga", war news without
Vietnam), and one on-topic article older than the crawl window. Dates are
relative to the moment the server starts.

    from crawler.demo_site import serve_demo_site

    with serve_demo_site() as site:
        config_text = site.config_toml("/tmp/demo.db")
        ...

Run it by hand with ``python -m crawler.demo_site``.
"""

from crawler.demo_site.model import DemoArticle, Outlet
from crawler.demo_site.server import DemoSite, serve_demo_site

__all__ = ["DemoArticle", "DemoSite", "Outlet", "serve_demo_site"]
