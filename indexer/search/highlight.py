"""Escaped HTML with <mark> spans: query words found by the index's own analyzer, or given spans.

The only markup in the output is our own `<mark>` tags; all text goes through `html.escape`.
"""
from __future__ import annotations

import functools
import html
import re

from indexer.base.analysis import Analyzer, default_analyzer, normalize
from indexer.base.querytree import ParsedQuery

DEFAULT_MAX_MARKS = 50

WordOffsets = frozenset[tuple[int, int]]  # (start, end) of every word and sub-word the index saw


def tokenized_spans(text: str, parsed: ParsedQuery) -> list[tuple[int, int]]:
    """Character spans of `text` that the query matches, merged, in order -- the definition.

    A word matches like in the index (a sub-word inside a longer word counts); a quoted phrase
    matches like in the index too -- its characters in order, punctuation and spaces aside -- and
    is one span. `query_spans` gives the same spans faster; this tokenizes the whole text.
    """
    spans: list[tuple[int, int]] = []
    if parsed.terms:
        terms = set(parsed.terms)
        spans.extend((t.start, t.end) for t in default_analyzer().tokenize(text) if t.text in terms)
    if parsed.phrases:
        spans.extend(_phrase_spans(text, parsed.phrases))
    return _merge(spans)


def query_spans(text: str, parsed: ParsedQuery, offsets: WordOffsets | None = None) -> list[tuple[int, int]]:
    """Exactly `tokenized_spans(text, parsed)`, without tokenizing the whole text.

    It runs for up to 100 hits per query (highlighting, stock-sentence collapsing), where tokenizing each
    hit cost most of a keyword query's time. With the chunk's stored word offsets (catalog) a query
    word's literal occurrence is a match iff the index saw a word exactly there; without them only the
    jieba blocks that contain a query word are tokenized (a jieba word never spans two blocks)."""
    spans = _phrase_spans(text, parsed.phrases) if parsed.phrases else []
    if parsed.terms:
        norm = normalize(text)  # what the analyzer cuts; length-preserving, so offsets carry over
        terms = {t for t in parsed.terms if t in norm}
        if terms:
            spans.extend(_word_spans(norm, terms, offsets) if offsets is not None else _block_spans(text, norm, terms))
    return _merge(spans)


def _word_spans(norm: str, terms: set[str], offsets: WordOffsets) -> list[tuple[int, int]]:
    spans = []
    for term in terms:
        at = norm.find(term)
        while at >= 0:
            if (at, at + len(term)) in offsets:
                spans.append((at, at + len(term)))
            at = norm.find(term, at + 1)
    return spans


# jieba cuts each run of these characters on its own (jieba.re_han_default, HMM off): a word never spans
# two runs, so only the runs that contain a query word as a substring can yield a match.
_JIEBA_BLOCK = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]+")


def _block_spans(text: str, norm: str, terms: set[str]) -> list[tuple[int, int]]:
    analyzer = default_analyzer()
    spans = []
    last = 0
    for m in _JIEBA_BLOCK.finditer(norm):
        start, end = m.start(), m.end()
        if start > last:  # characters between blocks are single tokens to jieba
            spans.extend((last + i, last + i + 1) for i, c in enumerate(norm[last:start]) if c in terms)
        last = end
        if any(t in m.group(0) for t in terms):
            spans.extend((start + a, start + b) for word, a, b in _block_tokens(analyzer, text[start:end])
                         if word in terms)
    spans.extend((last + i, last + i + 1) for i, c in enumerate(norm[last:]) if c in terms)
    return spans


@functools.lru_cache(maxsize=65536)
def _block_tokens(analyzer: Analyzer, block: str) -> tuple[tuple[str, int, int], ...]:
    """A block's words (with sub-words) and offsets; blocks recur across hits and queries (stock phrases)."""
    return tuple((t.text, t.start, t.end) for t in analyzer.tokenize(block))


def _phrase_spans(text: str, phrases: tuple[str, ...]) -> list[tuple[int, int]]:
    # Search the letters/digits/ideographs only, then map back to offsets in the original text.
    kept = [(i, c) for i, c in enumerate(normalize(text)) if c.isalnum()]
    squeezed = "".join(c for _, c in kept)
    spans = []
    for phrase in phrases:
        needle = "".join(c for c in normalize(phrase) if c.isalnum())
        if not needle:
            continue
        at = squeezed.find(needle)
        while at >= 0:
            spans.append((kept[at][0], kept[at + len(needle) - 1][0] + 1))
            at = squeezed.find(needle, at + 1)
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:  # overlapping or touching: one mark
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def mark_spans(text: str, spans: list[tuple[int, int]], css_class: str | None = None) -> str:
    """Escape `text` and wrap each (start, end) character span in <mark>; spans may overlap."""
    n = len(text)
    clean = _merge([(max(0, s), min(n, e)) for s, e in spans if min(n, e) > max(0, s)])
    open_tag = f'<mark class="{html.escape(css_class, quote=True)}">' if css_class else "<mark>"
    out: list[str] = []
    last = 0
    for start, end in clean:
        out.append(html.escape(text[last:start], quote=False))
        out.append(open_tag + html.escape(text[start:end], quote=False) + "</mark>")
        last = end
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def highlight(text: str, parsed: ParsedQuery, max_marks: int = DEFAULT_MAX_MARKS) -> str:
    """`text` as escaped HTML with the query's words and phrases marked (at most `max_marks` marks)."""
    return mark_spans(text, query_spans(text, parsed)[:max_marks])
