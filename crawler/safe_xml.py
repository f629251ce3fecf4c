"""Stream the records out of an untrusted XML document (a feed or a sitemap), safely and in bounded memory.

Feeds and sitemaps come from the open web, so the parser is configured against
the classic XML attacks: external entities are never resolved (XXE cannot read
a local file or reach the network), no DTD is loaded, and libxml2's "huge"
limits stay on (billion laughs and absurd nesting fail fast instead of eating
memory). Bodies may be gzip-compressed (``sitemap.xml.gz``); they are inflated
with a cap on the decompressed size, so a gzip bomb is refused.

The document is parsed incrementally and each record element (an RSS
``<item>``, an Atom ``<entry>``, a sitemap ``<url>``…) is handed to the caller
and then freed, so a sitemap with hundreds of thousands of URLs never builds a
full tree. Element names are compared by local name only: sites routinely get
the namespaces wrong (wrong URI, undeclared ``news:`` prefix, none at all).
"""

from __future__ import annotations

import html.entities
import re
import zlib
from collections.abc import Iterator

from lxml import etree

GZIP_MAGIC = b"\x1f\x8b"
# The sitemap protocol caps an uncompressed sitemap at 50 MiB; nothing we read should be bigger.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
# The sitemap protocol allows 50,000 URLs per file; no feed or sitemap needs more records read.
MAX_RECORDS = 50_000
_CHUNK = 256 * 1024
_MAX_RECORD_DEPTH = 2  # rss(0)/channel(1)/item(2); urlset(0)/url(1); feed(0)/entry(1)


class XMLInputError(ValueError):
    """The body is not usable XML; the message is a short reason."""


class RefusedInput(XMLInputError):
    """The body was refused before parsing (too large once inflated, broken gzip); retrying cannot help."""


def local_name(element: etree._Element) -> str:
    """``{ns}title``, ``news:title`` (undeclared prefix) and ``title`` are all ``title``."""
    tag = element.tag
    if not isinstance(tag, str):  # comments and processing instructions
        return ""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
        if len(_LOCAL_NAMES) < 4096:
            _LOCAL_NAMES[tag] = name
    return name


_LOCAL_NAMES: dict[str, str] = {}


def iter_records(
    body: bytes,
    record_names: frozenset[str],
    *,
    base_url: str | None = None,
    recover: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[etree._Element]:
    """Yield the document's root element first (children not parsed yet), then each record.

    A record is an element whose local name is in ``record_names`` at depth ≤ 2;
    it is complete when yielded and is cleared once the caller moves on, so the
    caller must copy out what it needs before asking for the next one. Records'
    ``.base`` honours ``xml:base`` and ``base_url``.

    ``recover=False`` raises :class:`XMLInputError` on the first well-formedness
    error; ``recover=True`` is libxml2's repair mode for the broken feeds that
    are common in the wild, after making every ``&`` well-formed (a bare one in
    ``?a=1&b=2``, an HTML ``&nbsp;``), which repair mode would otherwise mangle.
    Gzip bodies are inflated up to ``max_bytes``; :class:`RefusedInput` when
    that is exceeded.
    """
    parser = etree.XMLPullParser(
        events=("start", "end"),
        base_url=base_url,
        recover=recover,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    state = {"depth": -1, "root_seen": False}

    def records(events) -> Iterator[etree._Element]:
        for event, element in events:
            if event == "start":
                state["depth"] += 1
                if not state["root_seen"]:
                    state["root_seen"] = True
                    yield element
                continue
            if 0 < state["depth"] <= _MAX_RECORD_DEPTH and local_name(element) in record_names:
                yield element
                _free(element)
            state["depth"] -= 1

    chunks = _decoded_chunks(body, max_bytes)
    if recover:
        chunks = iter([_repair_ampersands(b"".join(chunks))])
    try:
        for chunk in chunks:
            parser.feed(chunk)
            yield from records(parser.read_events())
        root = parser.close()
        yield from records(parser.read_events())  # events flushed by close() in recover mode
    except etree.XMLSyntaxError as exc:
        raise XMLInputError(_short_reason(exc)) from None
    if not state["root_seen"] and root is None:
        raise XMLInputError("no XML element found")


def _free(element: etree._Element) -> None:
    """Drop a processed record and its already-processed siblings from the tree."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _decoded_chunks(body: bytes, max_bytes: int) -> Iterator[bytes]:
    """The body in chunks, gunzipped first when it starts with the gzip magic.

    A gzip body is inflated completely before any parsing, stopping as soon as
    it passes ``max_bytes``: a bomb is refused after a fraction of a second
    instead of being parsed for as long as it lasts.
    """
    if body[:2] == GZIP_MAGIC:
        body = gunzip_capped(body, max_bytes)
    elif len(body) > max_bytes:
        raise RefusedInput(f"document is larger than {max_bytes} bytes")
    body = _strip_leading_space(body)
    for start in range(0, len(body), _CHUNK):
        yield body[start : start + _CHUNK]


def gunzip_capped(body: bytes, max_bytes: int) -> bytes:
    """Inflate a gzip body; :class:`RefusedInput` when it is broken, truncated or inflates past ``max_bytes``."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out: list[bytes] = []
    produced = 0
    data = body
    try:
        while data and not inflater.eof:
            piece = inflater.decompress(data, _CHUNK)
            produced += len(piece)
            if produced > max_bytes:
                raise RefusedInput(f"gzip body inflates to more than {max_bytes} bytes; refused")
            out.append(piece)
            data = inflater.unconsumed_tail
        if not inflater.eof:
            piece = inflater.flush()
            produced += len(piece)
            if produced > max_bytes:
                raise RefusedInput(f"gzip body inflates to more than {max_bytes} bytes; refused")
            out.append(piece)
    except zlib.error as exc:
        raise RefusedInput(f"broken gzip body: {exc}") from None
    if not inflater.eof:
        raise RefusedInput("truncated gzip body")
    return b"".join(out)


_AMPERSAND = re.compile(rb"&(#[0-9]{1,8};|#[xX][0-9a-fA-F]{1,8};|[A-Za-z][A-Za-z0-9]{0,40};)?")
_XML_ENTITIES = frozenset({b"amp;", b"lt;", b"gt;", b"quot;", b"apos;"})


def _repair_ampersands(data: bytes) -> bytes:
    """Make every ``&`` well-formed before a recover-mode parse.

    A bare ``&`` becomes ``&amp;``; an HTML entity such as ``&nbsp;`` becomes a
    character reference; any other undeclared name is kept as literal text. This
    matters beyond tidiness: after one undefined entity, libxml2's repair mode
    silently drops later ``&amp;`` too, turning ``?a=1&amp;b=2`` into ``?a=1b=2``.
    """

    def repair(match: re.Match[bytes]) -> bytes:
        reference = match.group(1)
        if reference is None:
            return b"&amp;"
        if reference.startswith(b"#") or reference in _XML_ENTITIES:
            return match.group(0)
        characters = html.entities.html5.get(reference.decode("ascii"))
        if characters is None:
            return b"&amp;" + reference
        return "".join(f"&#{ord(char)};" for char in characters).encode("ascii")

    return _AMPERSAND.sub(repair, data)


def _strip_leading_space(data: bytes) -> bytes:
    """Whitespace (after a UTF-8 BOM) before ``<?xml`` is a fatal error for libxml2; drop it."""
    bom = b"\xef\xbb\xbf"
    if data.startswith(bom):
        data = data[len(bom):]
    return data.lstrip(b" \t\r\n")


def _short_reason(exc: etree.XMLSyntaxError) -> str:
    message = (exc.msg or str(exc)).splitlines()[0].strip()
    if len(message) > 160:
        message = message[:157] + "..."
    line = getattr(exc, "lineno", None)
    return f"not well-formed XML: {message}" + (f" (line {line})" if line else "")
