"""What a hit marks, as character spans: the query words the index's own analyzer finds in it, or, for a
hit that matches only in meaning, its best sentence (`hit_marks`). And the one place those spans become
escaped HTML with <mark> tags (`mark_spans`), which the edges (web, CLI --json, API) call; the only markup in
the output is our own `<mark>` tags; all text goes through `html.escape`.
"""
from __future__ import annotations

import functools
import html
import re
from typing import Iterator

from indexer.core.analysis import Analyzer, default_analyzer, normalize, squeeze, squeeze_offsets, transparent
from indexer.core.querytree import ParsedQuery

DEFAULT_MAX_MARKS = 50
# What a hit's spans are: query words, official terms the query's everyday words stand for, or a sentence
MARK_WORDS, MARK_OFFICIAL, MARK_SENTENCE = "literal", "official", "semantic"
SENTENCE_CLASS = "sem"  # the CSS class of a marked sentence
OFFICIAL_CLASS = "official"  # ... and of a marked official term

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
        # What the analyzer cuts: normalised (length-preserving) and without the marks inside terms
        # (“八五”普法 is the word 八五普法); `keep` maps its offsets back to the text's.
        squeezed, keep = transparent(normalize(text))
        terms = {t for t in parsed.terms if t in squeezed}
        if terms:
            found = _word_spans(squeezed, terms, offsets, keep) if offsets is not None else \
                _block_spans(squeezed, squeezed, terms)
            spans.extend(_unsqueeze(found, keep))
    return _merge(spans)


def _unsqueeze(spans: list[tuple[int, int]], keep: list[int] | None) -> list[tuple[int, int]]:
    """Spans of the text without inner marks as spans of the text (a span across a mark covers it)."""
    return spans if keep is None else [(keep[s], keep[e - 1] + 1) for s, e in spans]


def _word_spans(squeezed: str, terms: set[str], offsets: WordOffsets,
                keep: list[int] | None) -> list[tuple[int, int]]:
    spans = []
    for term in terms:
        at = squeezed.find(term)
        while at >= 0:
            span = (at, at + len(term))
            if _unsqueeze([span], keep)[0] in offsets:
                spans.append(span)
            at = squeezed.find(term, at + 1)
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
    # As the index matches a phrase: on the squeezed text (analysis.squeeze), mapped back to the text's offsets.
    kept = squeeze_offsets(text)
    squeezed = squeeze(text)
    spans = []
    for phrase in phrases:
        needle = squeeze(phrase)
        if not needle:
            continue
        at = squeezed.find(needle)
        while at >= 0:
            spans.append((kept[at], kept[at + len(needle) - 1] + 1))
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


def segments(text: str, spans: list[tuple[int, int]]) -> Iterator[tuple[str, bool]]:
    """`text` cut at the spans (merged, clipped to the text; they may overlap): (piece, marked) in order,
    for every edge that renders marks (HTML here, Word runs, terminal reverse video)."""
    n = len(text)
    last = 0
    for start, end in _merge([(max(0, s), min(n, e)) for s, e in spans if min(n, e) > max(0, s)]):
        if start > last:
            yield text[last:start], False
        yield text[start:end], True
        last = end
    if last < n:
        yield text[last:], False


def mark_spans(text: str, spans: list[tuple[int, int]], css_class: str | None = None) -> str:
    """Escape `text` and wrap each (start, end) character span in <mark>; spans may overlap."""
    open_tag = f'<mark class="{html.escape(css_class, quote=True)}">' if css_class else "<mark>"
    return "".join(open_tag + html.escape(piece, quote=False) + "</mark>" if marked else html.escape(piece, quote=False)
                   for piece, marked in segments(text, spans))


def highlight_html(text: str, spans: list[tuple[int, int]], kind: str) -> str:
    """A hit's text as escaped HTML with its spans (`hit_marks`) marked."""
    css = {MARK_SENTENCE: SENTENCE_CLASS, MARK_OFFICIAL: OFFICIAL_CLASS}.get(kind)
    return mark_spans(text, spans, css)


def has_real_match(spans: list[tuple[int, int]]) -> bool:
    """A literal match worth marking: two characters or more (a lone shared character such as 骗 is noise)."""
    return any(end - start >= 2 for start, end in spans)


def hit_marks(text: str, spans: list[tuple[int, int]], parsed: ParsedQuery | None,
              sentence: tuple[int, int] | None = None, by_meaning: bool = True) -> tuple[list[tuple[int, int]], str]:
    """The spans a hit shows and what they are: the query's literal matches (at most DEFAULT_MAX_MARKS), or,
    when none is a real match, the query has words to compare and meaning counts (not keyword mode), the
    sentence closest to the query: `sentence` when the model's sentence vectors found it, else the one
    sharing the most characters."""
    if parsed is None:
        return [], MARK_WORDS
    spans = list(spans)[:DEFAULT_MAX_MARKS]
    if by_meaning and not has_real_match(spans) and parsed.semantic_text.strip():
        span = sentence or best_sentence(text, parsed.semantic_text)
        return ([span] if span else []), MARK_SENTENCE
    return spans, MARK_WORDS


_SENTENCE_END = re.compile(r"[^。！？；!?;]+[。！？；!?;]?")
_STOP_CHARS = set("的了是在和与及等对把被为有也就都而或怎么如何什哪吗呢啊")


def best_sentence(text: str, query: str) -> tuple[int, int] | None:
    """The sentence of `text` that shares the most characters and character pairs with the query.

    Cheap on purpose: it runs for every displayed semantic hit; character overlap is a fair proxy for
    which sentence the embedding matched when no query word occurs literally."""
    q_chars = {c for c in query if c.strip() and c not in _STOP_CHARS}
    q_pairs = {query[i : i + 2] for i in range(len(query) - 1)}
    best, best_score = None, 0.0
    for m in _SENTENCE_END.finditer(text):
        s = m.group(0)
        if len(s.strip()) < 4:
            continue
        score = sum(1 for c in set(s) if c in q_chars) + 2 * sum(1 for i in range(len(s) - 1) if s[i : i + 2] in q_pairs)
        if score > best_score:
            best, best_score = (m.start(), m.end()), score
    return best


def highlight(text: str, parsed: ParsedQuery, max_marks: int = DEFAULT_MAX_MARKS) -> str:
    """`text` as escaped HTML with the query's words and phrases marked (at most `max_marks` marks)."""
    return mark_spans(text, query_spans(text, parsed)[:max_marks])
