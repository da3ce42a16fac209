"""Chunk: one chunk per text paragraph; a long paragraph is split at sentence ends into parts of
balanced size.

Where to cut is chosen by cost, not greedily: every part stays within `max_chunk_chars`, sizes stay
close to each other, and a cut lands preferably before a new item (二是…, （三）…) and never right
after a short item lead ("三是加强法治教育培训。" belongs with the sentences it introduces).
A single sentence longer than the limit is cut at commas, as a last resort.
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass

from indexer.core.config import Config
from indexer.core.document import Chunk, Paragraph, stable_chunk_id
from indexer.pipeline.lines import CLOSING_QUOTES, parse_marker

log = logging.getLogger(__name__)

_SENTENCE = re.compile(rf"[^。！？；!?;]*[。！？；!?;]+[{re.escape(CLOSING_QUOTES)}]*|[^。！？；!?;]+$")
_CLAUSE = re.compile(r"[^，,、]*[，,、]+|[^，,、]+$")
MAX_LEAD_CHARS = 40  # an item's opening sentence up to this length introduces what follows

# Cut costs, in the unit of the balance cost (squared characters away from the ideal size).
_CUT_BEFORE_ITEM = 0.0
_CUT_AT_SENTENCE = 40.0**2
_CUT_AT_COMMA = 150.0**2
_CUT_AT_ENUMERATION_COMMA = 250.0**2  # 、 separates list members: worse than ，
_CUT_BY_LENGTH = 400.0**2
_CUT_AFTER_LEAD = 1e9


@dataclass
class _Unit:
    text: str
    cut_cost: float  # cost of a cut right after this unit


def chunk_paragraphs(
    paragraphs: list[Paragraph], doc_key: str, config: Config, doc_path: str | None = None
) -> list[Chunk]:
    """Chunks of a document's text paragraphs (headings give none), ids stable across rebuilds."""
    seen: Counter[str] = Counter()
    chunks: list[Chunk] = []
    for paragraph in paragraphs:
        if paragraph.is_heading or not paragraph.text.strip():
            continue
        parts = split_text(paragraph.text, config.analysis.max_chunk_chars, config.analysis.min_chunk_chars)
        for part_no, text in enumerate(parts):
            chunks.append(Chunk(
                chunk_id=stable_chunk_id(doc_key, text, seen[text]),
                doc_path=doc_path if doc_path is not None else doc_key,
                paragraph_index=paragraph.index,
                part=part_no,
                text=text,
                heading_path=paragraph.heading_path,
                section_kind=paragraph.section_kind,
            ))
            seen[text] += 1
    return chunks


def split_text(text: str, max_chars: int, min_chars: int) -> list[str]:
    """`text` as one part, or as sentence-aligned parts of balanced size no longer than `max_chars`."""
    if len(text) <= max_chars:
        return [text]
    units = _units(text, max_chars)
    parts = _best_parts(units, max_chars, min_chars)
    return _merge_small(parts, min_chars)


def sentences(text: str) -> list[str]:
    """Sentences with their end punctuation (and closing quotes) attached."""
    return [text[start:end] for start, end in sentence_spans(text)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) character span of each of `sentences(text)`."""
    return [m.span() for m in _SENTENCE.finditer(text) if m.end() > m.start()]


def _units(text: str, max_chars: int) -> list[_Unit]:
    """Sentences, each with the cost of cutting after it; over-long sentences broken into clauses."""
    units: list[_Unit] = []
    sents = sentences(text)
    for i, sentence in enumerate(sents):
        following = sents[i + 1] if i + 1 < len(sents) else ""
        if len(sentence) <= max_chars:
            units.append(_Unit(sentence, _sentence_cut_cost(sentence, following)))
            continue
        pieces = _clauses(sentence, max_chars)
        units.extend(_Unit(p, _clause_cut_cost(p)) for p in pieces[:-1])
        units.append(_Unit(pieces[-1], _sentence_cut_cost(sentence, following)))
    return units


def _sentence_cut_cost(sentence: str, following: str) -> float:
    marker = parse_marker(sentence)
    if marker is not None and len(sentence) <= MAX_LEAD_CHARS:
        return _CUT_AFTER_LEAD
    if parse_marker(following) is not None:
        return _CUT_BEFORE_ITEM
    return _CUT_AT_SENTENCE


def _clause_cut_cost(piece: str) -> float:
    if piece[-1] in "，,":
        return _CUT_AT_COMMA
    if piece[-1] == "、":
        return _CUT_AT_ENUMERATION_COMMA
    return _CUT_BY_LENGTH  # no comma within reach: cut by length


def _clauses(sentence: str, max_chars: int) -> list[str]:
    """A sentence longer than the limit cut at commas; a clause still too long is cut by length."""
    pieces: list[str] = []
    for clause in _CLAUSE.findall(sentence):
        while len(clause) > max_chars:
            pieces.append(clause[:max_chars])
            clause = clause[max_chars:]
        if clause:
            pieces.append(clause)
    return pieces


def _best_parts(units: list[_Unit], max_chars: int, min_chars: int) -> list[str]:
    """Group consecutive units into the fewest parts that fit, minimising imbalance plus cut costs."""
    lengths = [len(u.text) for u in units]
    total = sum(lengths)
    prefix = [0]
    for n in lengths:
        prefix.append(prefix[-1] + n)
    count = max(1, math.ceil(total / max_chars))
    while count <= len(units):
        cuts = _cheapest_cuts(units, prefix, count, max_chars, min_chars)
        if cuts is not None:
            bounds = [0, *cuts, len(units)]
            return ["".join(u.text for u in units[a:b]) for a, b in zip(bounds, bounds[1:])]
        count += 1
    return [u.text for u in units]  # unreachable: single units always fit (clauses are cut to size)


def _cheapest_cuts(
    units: list[_Unit], prefix: list[int], count: int, max_chars: int, min_chars: int
) -> list[int] | None:
    """Dynamic programme over cut positions for exactly `count` parts; None when none fit."""
    n = len(units)
    ideal = prefix[-1] / count
    inf = float("inf")
    # best[k][j]: cost of splitting units[:j] into k parts; back[k][j]: start of the last part
    best = [[inf] * (n + 1) for _ in range(count + 1)]
    back = [[0] * (n + 1) for _ in range(count + 1)]
    best[0][0] = 0.0
    for k in range(1, count + 1):
        for j in range(k, n + 1):
            for i in range(j - 1, k - 2, -1):
                size = prefix[j] - prefix[i]
                if size > max_chars:
                    break
                if best[k - 1][i] == inf:
                    continue
                cost = best[k - 1][i] + (size - ideal) ** 2
                if size < min_chars:
                    cost += _CUT_AFTER_LEAD / 10  # a fragment too small to stand alone
                if j < n:
                    cost += units[j - 1].cut_cost
                if cost < best[k][j]:
                    best[k][j], back[k][j] = cost, i
    if best[count][n] == inf:
        return None
    cuts: list[int] = []
    j = n
    for k in range(count, 0, -1):
        j = back[k][j]
        cuts.append(j)
    return sorted(cuts)[1:]


def _merge_small(parts: list[str], min_chars: int) -> list[str]:
    """Fold a part shorter than `min_chars` into its shorter neighbour, even past the limit."""
    parts = list(parts)
    i = 0
    while len(parts) > 1 and i < len(parts):
        if len(parts[i]) >= min_chars:
            i += 1
            continue
        left = len(parts[i - 1]) if i > 0 else math.inf
        right = len(parts[i + 1]) if i + 1 < len(parts) else math.inf
        if left <= right:
            parts[i - 1] += parts.pop(i)
            i -= 1
        else:
            parts[i] += parts.pop(i + 1)
    return parts
