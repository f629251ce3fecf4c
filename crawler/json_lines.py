"""Reading JSON-lines input (``newsmon classify`` and ``newsmon cluster``) one line at a time.

Input is read as bytes so that a byte that is not UTF-8, or a line that is not
JSON, is that one line's error (named by its number) instead of ending the
whole command with a traceback.
"""

from __future__ import annotations

import json
from typing import Any


class BadLine(ValueError):
    """One input line that cannot be read; the message says why (without the line number)."""


def decode_line(raw: bytes) -> Any:
    """One raw line → its JSON value; ``None`` for a blank line; ``BadLine`` says what is wrong."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadLine(f"not UTF-8 text (byte {exc.start + 1})") from None
    if not line.strip():
        return None
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not valid JSON ({exc.msg}, column {exc.colno})") from None

