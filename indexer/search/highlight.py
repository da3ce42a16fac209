"""Escaped HTML with <mark> spans: query words found by the index's own analyzer, or given spans.

The only markup in the output is our own `<mark>` tags; all text goes through `html.escape`.
"""
from __future__ import annotations

import html

from indexer.fulltext.analysis import default_analyzer, normalize
from indexer.search.query import ParsedQuery

DEFAULT_MAX_MARKS = 50


def query_spans(text: str, parsed: ParsedQuery) -> list[tuple[int, int]]:
    """Character spans of `text` that the query matches, merged, in order.

    A word matches like in the index (a sub-word inside a longer word counts); a quoted phrase
    matches like in the index too -- its characters in order, punctuation and spaces aside -- and
    is one span.
    """
    spans: list[tuple[int, int]] = []
    if parsed.terms:
        terms = set(parsed.terms)
        spans.extend((t.start, t.end) for t in default_analyzer().tokenize(text) if t.text in terms)
    if parsed.phrases:
        spans.extend(_phrase_spans(text, parsed.phrases))
    return _merge(spans)


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
