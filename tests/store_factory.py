"""Build real stores for the read-side tests: articles go in through ``save_article``.

Reprints are filed into their original's cluster by writing the rows the
dedupe engine would write (``cluster_id``, ``duplicate_of``, the cluster's
size and sources), so the digest and search can be tested on their own.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from itertools import count

from crawler.items import ArticleRecord, ExtractedArticle
from store.articles import save_article, transaction

NOW = datetime.now(timezone.utc).replace(microsecond=0)
_serial = count(1)


def record(*, title: str, text: str, source: str = "vnexpress", url: str | None = None, lang: str = "vi",
           published: datetime | None = None, hours_ago: float = 1.0, score: float = 6.5,
           terms: dict | None = None, relevant: bool = True) -> ArticleRecord:
    """An ArticleRecord as the pipelines hand it to the store."""
    url = url or f"https://{source}.example/{next(_serial)}.html"
    article = ExtractedArticle(
        title=title, author=None, published=published or NOW - timedelta(hours=hours_ago), lang=lang,
        text=text, extractor_version="test",
    )
    return ArticleRecord(
        url=url, source=source, fetched=NOW, html=b"<html><body>page</body></html>", article=article,
        relevant=relevant, score=score if relevant else 0.5,
        terms=terms if terms is not None else {"military": ["quốc phòng"], "russia": ["Nga"]},
        reason=None if relevant else "no topic terms",
    )


def add(db, **fields) -> int:
    """Store one article through ``save_article``; return its id."""
    return save_article(db, record(**fields))


def add_reprint(db, original_id: int, **fields) -> int:
    """Store a reprint of ``original_id`` and file it into the original's cluster."""
    article_id = add(db, **fields)
    with transaction(db) as conn:
        cluster_id, = conn.execute("SELECT cluster_id FROM articles WHERE id = ?", (original_id,)).fetchone()
        own, = conn.execute("SELECT cluster_id FROM articles WHERE id = ?", (article_id,)).fetchone()
        conn.execute("UPDATE articles SET cluster_id = ?, duplicate_of = ?, similarity = 0.9 WHERE id = ?",
                     (cluster_id, original_id, article_id))
        conn.execute("DELETE FROM clusters WHERE id = ?", (own,))
        sources = [r[0] for r in conn.execute(
            "SELECT DISTINCT source FROM articles WHERE cluster_id = ? ORDER BY source", (cluster_id,))]
        conn.execute("UPDATE clusters SET size = size + 1, sources = ? WHERE id = ?",
                     (json.dumps(sources), cluster_id))
    return article_id
