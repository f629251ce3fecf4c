"""Which article of a cluster is its canonical copy.

The rule (issue 5): the wire original when one of the cluster's sources is a wire
service (``wire = true``), else the earliest published, ties to the longest text,
then to the first stored. The canonical changes when the original arrives after its
copies: the rule is applied to the whole cluster every time it grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable


@dataclass(frozen=True)
class Member:
    """What the canonical rule looks at for one article of a cluster."""

    article_id: int
    source: str
    published: datetime | None
    tokens: int


def canonical_order(member: Member, wire_sources: frozenset[str] | set[str]):
    """Sort key: the canonical member sorts first."""
    return (
        member.source not in wire_sources,
        member.published is None,
        member.published or datetime.min,
        -member.tokens,
        member.article_id,
    )


def choose_canonical(members: Iterable[Member], wire_sources: frozenset[str] | set[str]) -> Member:
    """The canonical member of a cluster (``members`` must not be empty)."""
    members = list(members)
    if not members:
        raise ValueError("a cluster has at least one member")
    return min(members, key=lambda m: canonical_order(m, wire_sources))
