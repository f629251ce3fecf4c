"""The extraction worker pool: same articles as in-process extraction, a per-page time limit, crash recovery,
and no process left behind."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from crawler.extract import extract_article
from crawler.extraction_pool import ExtractionCrashed, ExtractionPool, ExtractionTimeout

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "vn-pages"
REAL_PAGES = sorted(FIXTURES.glob("*_article*.html"))
SMALL_PAGE = ("<html><head><title>Tàu ngầm Kilo</title></head><body><article><h1>Tàu ngầm Kilo</h1>"
              + "<p>Hải quân Việt Nam tiếp nhận tàu ngầm lớp Kilo do Nga đóng, nâng cao năng lực phòng thủ biển.</p>" * 5
              + "</article></body></html>").encode()


def _huge_page(paragraphs: int = 60_000) -> bytes:
    """About 6 MB of paragraphs: ~5 s of extraction, ten times a half-second limit."""
    body = "".join(f"<div><p>Đoạn {i}: hợp tác quốc phòng Việt Nam và Liên bang Nga, chi tiết số {i * 7}.</p></div>"
                   for i in range(paragraphs))
    return f"<html><body><article>{body}</article></body></html>".encode()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_pool_extracts_the_same_articles_as_this_process():
    async def main():
        with ExtractionPool(workers=2, timeout=60) as pool:
            return await asyncio.gather(*(pool.extract(p.read_bytes(), f"https://example.vn/{p.stem}.html", "+07:00")
                                          for p in REAL_PAGES))

    articles = asyncio.run(main())
    assert len(articles) == len(REAL_PAGES) >= 8
    for path, article in zip(REAL_PAGES, articles):
        here = extract_article(path.read_bytes(), f"https://example.vn/{path.stem}.html", utc_offset="+07:00")
        assert article == here, path.name
        assert len(article.text) > 500


def test_crawl_workers_score_and_sign_pages_as_this_process_would():
    from crawler.config import DedupeConfig
    from crawler.page_analysis import PageAnalyser
    from crawler.relevance import default_profile

    analyser = PageAnalyser(default_profile(), DedupeConfig())
    pages = [SMALL_PAGE, *[p.read_bytes() for p in REAL_PAGES]]

    async def main():
        with ExtractionPool(workers=2, timeout=60, job=analyser) as pool:
            return await asyncio.gather(*(pool.extract(html, f"https://example.vn/{n}.html", "+07:00", None, "Tin")
                                          for n, html in enumerate(pages)))

    results = asyncio.run(main())
    assert results[0].relevance.relevant and results[0].signature is not None  # Kilo submarine from Russia
    for n, (html, result) in enumerate(zip(pages, results)):
        here = analyser(html, f"https://example.vn/{n}.html", "+07:00", None, "Tin")
        assert result == here, n
        assert (result.signature is not None) == bool(result.relevance and result.relevance.relevant)


def test_page_over_the_time_limit_fails_and_the_worker_is_replaced():
    async def main():
        with ExtractionPool(workers=1, timeout=0.5) as pool:
            first = await pool.extract(SMALL_PAGE, "https://example.vn/a.html", "+07:00")
            before = pool.worker_pids
            with pytest.raises(ExtractionTimeout) as failure:
                await pool.extract(_huge_page(), "https://example.vn/huge.html", "+07:00")
            after = await pool.extract(SMALL_PAGE, "https://example.vn/b.html", "+07:00")
            return first, before, failure.value, after, pool.worker_pids, pool.stats

    first, before, error, after, pids, stats = asyncio.run(main())
    assert "https://example.vn/huge.html" in str(error) and "extract_timeout" in str(error)
    assert after.text == first.text and "tàu ngầm" in after.text.lower()
    assert not any(_alive(pid) for pid in before), "the worker stuck on the page was not stopped"
    assert pids and set(pids).isdisjoint(before)
    assert stats.timeouts == 1 and stats.replaced == 1


def test_worker_that_dies_fails_only_its_page():
    async def main():
        with ExtractionPool(workers=1, timeout=None) as pool:
            await pool.extract(SMALL_PAGE, "https://example.vn/a.html", "+07:00")  # the worker is up
            victim, = pool.worker_pids
            pending = asyncio.ensure_future(pool.extract(_huge_page(), "https://example.vn/huge.html", "+07:00"))
            await asyncio.sleep(0)  # handed to the idle worker
            os.kill(victim, signal.SIGKILL)  # what the kernel's out-of-memory killer does
            with pytest.raises(ExtractionCrashed) as failure:
                await pending
            after = await pool.extract(SMALL_PAGE, "https://example.vn/b.html", "+07:00")
            return failure.value, after

    error, after = asyncio.run(main())
    assert "https://example.vn/huge.html" in str(error) and "died" in str(error)
    assert "tàu ngầm" in after.text.lower()


def test_close_leaves_no_worker_running():
    async def main():
        pool = ExtractionPool(workers=2, timeout=30)
        pool.start()
        await asyncio.gather(*(pool.extract(SMALL_PAGE, f"https://example.vn/{n}.html", "+07:00") for n in range(6)))
        pids = pool.worker_pids
        pool.close()
        return pids, pool.worker_pids

    pids, left = asyncio.run(main())
    assert len(pids) == 2
    assert left == []
    assert not any(_alive(pid) for pid in pids)
