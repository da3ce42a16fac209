"""The query tree as two Milvus expressions, so the exact matches are found inside Milvus, not by reading
every chunk: `sure` keeps only chunks that match, `maybe` every chunk that may (a superset).

A quoted string (`exact`) matches when the chunk's squeezed text holds it (punctuation and spaces aside,
after `normalize`: full-width ASCII to half-width, Latin lower-cased). So
- `text like "%<needle>%"` is sure: a raw text holding the needle's characters consecutively holds them
  consecutively squeezed too (the needle is letters, digits and ideographs only, never a LIKE wildcard);
- `text like "%<c>%"` for each ideograph c of the needle is necessary: `normalize` maps no other character
  to an ideograph, whatever stands between them in the raw text (“八五”普法 holds 八五普法). Latin letters and
  digits give no clause (ＡＢＣ and ABC normalise to abc).
A word (a ranked word of the text or its context) needs its ideographs in the text, title or heading.
The chunks `maybe` keeps beyond `sure` are checked on the client (recheck.py), as before; measured on Lite,
LIKE runs in Milvus over the filtered rows without returning them.
"""
from __future__ import annotations

from dataclasses import dataclass

from indexer.core.analysis import squeeze
from indexer.core.querytree import Node, QueryReader
from indexer.engines.milvus.expr import NOTHING

ALL = ""  # no condition: every chunk
MAX_CHARS = 8  # a long pasted sentence needs no more clauses than this to be selective


@dataclass(frozen=True)
class Bounds:
    sure: str  # chunks that surely match (NOTHING: none known; ALL: every chunk)
    maybe: str  # every chunk that may match (ALL: no condition)


def _ideograph(c: str) -> bool:
    o = ord(c)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x323AF


def _and(parts: list[str]) -> str:
    if NOTHING in parts:
        return NOTHING
    parts = [p for p in dict.fromkeys(parts) if p != ALL]
    return " and ".join(f"({p})" for p in parts) if parts else ALL


def _or(parts: list[str]) -> str:
    if ALL in parts:
        return ALL
    parts = [p for p in dict.fromkeys(parts) if p != NOTHING]
    return " or ".join(f"({p})" for p in parts) if parts else NOTHING


def _chars(text: str) -> list[str]:
    return list(dict.fromkeys(c for c in text if _ideograph(c)))[:MAX_CHARS]


class _Bounds(QueryReader[Bounds]):
    def word(self, word: str) -> Bounds:
        fields = ("text", "title", "heading")
        return Bounds(NOTHING, _and([_or([f'{f} like "%{c}%"' for f in fields]) for c in _chars(word)]))

    def exact(self, text: str, boost: float) -> Bounds:
        needle = squeeze(text)
        if not needle:
            return Bounds(NOTHING, NOTHING)
        return Bounds(f'text like "%{needle}%"', _and([f'text like "%{c}%"' for c in _chars(needle)]))

    def all_of(self, parts: list[Bounds]) -> Bounds:
        return Bounds(_and([p.sure for p in parts]), _and([p.maybe for p in parts]))

    def any_of(self, parts: list[Bounds]) -> Bounds:
        return Bounds(_or([p.sure for p in parts]), _or([p.maybe for p in parts]))

    def ranked_by(self, base: Bounds, extra: Bounds) -> Bounds:
        return base

    def boost(self, part: Bounds, factor: float) -> Bounds:
        return part

    def everything(self) -> Bounds:
        return Bounds(ALL, ALL)

    def nothing(self) -> Bounds:
        return Bounds(NOTHING, NOTHING)

    def excluding(self, base: Bounds, excluded: Bounds) -> Bounds:
        # surely in `base` and surely not in `excluded` (outside every chunk it may match)
        if excluded.maybe == NOTHING:
            return base
        if excluded.maybe == ALL:
            return Bounds(NOTHING, base.maybe)
        return Bounds(_and([base.sure, f"not ({excluded.maybe})"]), base.maybe)


def bounds(node: Node) -> Bounds:
    return _Bounds().read(node)


def both(*parts: str) -> str:
    """The AND of expressions (ALL: no condition)."""
    return _and(list(parts))
