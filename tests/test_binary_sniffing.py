"""Binary bodies served as text/html are recognised before extraction (a browser's sniffing rule)."""

import random

from crawler.spiders.news import looks_binary

VIETNAMESE_PAGE = "<html><body><p>Hợp tác quốc phòng Việt Nam – Liên bang Nga.</p></body></html>".encode() * 30


def test_random_bytes_and_known_signatures_are_binary():
    noise = random.Random(7).randbytes(4096)
    assert looks_binary(noise)
    assert looks_binary(b"\x89PNG\r\n\x1a\n" + b"<p>text</p>" * 100)


def test_text_pages_are_not_binary_even_with_stray_nul_bytes():
    assert not looks_binary(VIETNAMESE_PAGE)
    assert not looks_binary(VIETNAMESE_PAGE[:500] + b"\x00\x00" + VIETNAMESE_PAGE[500:])
    assert not looks_binary("<p>Россия</p>".encode("utf-16"))  # the BOM says the zeros are text
    assert not looks_binary(b"")


def test_a_page_just_over_the_binary_share_is_binary():
    head = bytearray(b"a" * 1024)
    head[:200:2] = b"\x01" * 100  # ~10% binary data bytes in the first kilobyte
    assert looks_binary(bytes(head))
