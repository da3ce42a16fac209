"""Our analyzer's words, stored in a form every Milvus tokenizer keeps whole.

Milvus's `standard` tokenizer "splits text based on spaces and punctuation marks"; its docs say languages
such as Chinese "require dictionary-based tokenization" (https://milvus.io/docs/standard-tokenizer.md,
https://milvus.io/docs/standard-analyzer.md), and measured on Milvus Lite 3.2.2 a run of Han characters stays
ONE token (心桥 does not match 心桥工程). Lite offers only the `standard` and `jieba` tokenizers (no
`whitespace`, which servers have from 2.6: `unknown tokenizer type: 'whitespace'`), and the server's jieba is
not ours (other dictionary, no domain lexicon). So we segment on the client with `indexer.core.analysis` —
the same words and sub-words the local full-text index stores — and write each word as one run of ASCII
letters and digits (lower case), which `standard`, `whitespace` and any other tokenizer keep as one token.
Queries encode the same way.

The form (schema version 3): a marker (`w` a word of the text, `c` a word of the context) and each
character's code point in base 36 (digits, then a–z):
- two symbols, the first `0`–`2`, for printable ASCII (code point − 32: 0…94);
- three symbols, the first `3`–`y` (value − 3 × 1296 is the code point), for code points below 41,472:
  every Han character of the BMP's unified ideographs and extension A, CJK punctuation, Latin, Cyrillic;
- `z` and four symbols for every other code point (up to U+10FFFF).
A two-character Chinese word is 7 bytes (the hex of its UTF-8 was 13), a digit or ASCII letter 2 bytes (hex:
2): measured in docs/milvus.md ("Token form"). The code is prefix-free, so `decode` is exact.
"""
from __future__ import annotations

import functools
from typing import Iterable

from indexer.core.analysis import Analyzer, squeeze

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_VALUE = {ch: i for i, ch in enumerate(_DIGITS)}
_ASCII_FIRST = 3  # first symbols 0..2: printable ASCII in two symbols (3 × 36 = 108 ≥ 95)
_LONG = "z"  # then four symbols: any code point
_THREE_LIMIT = (35 - _ASCII_FIRST) * 36 * 36  # first symbols 3..y: code points below 41,472


def _base36(value: int, width: int) -> str:
    out = []
    for _ in range(width):
        value, r = divmod(value, 36)
        out.append(_DIGITS[r])
    return "".join(reversed(out))


def _char(ch: str) -> str:
    cp = ord(ch)
    if 0x20 <= cp < 0x7F:
        return _base36(cp - 0x20, 2)
    if cp < _THREE_LIMIT:
        return _base36(cp + _ASCII_FIRST * 1296, 3)
    return _LONG + _base36(cp, 4)


def _word(marker: str, word: str) -> str:
    return marker + "".join(_char(ch) for ch in word)


def encode(word: str) -> str:
    return _word("w", word)


def encode_context(word: str) -> str:
    """A word of the chunk's context (heading path + title): its own token, so BM25 gives words that every
    chunk of a report shares (its title) the low weight their document frequency earns — the local index
    keeps context in a separate, lower-weighted field for the same reason."""
    return _word("c", word)


@functools.lru_cache(maxsize=1 << 18)
def decode(token: str) -> str:
    """The word of a text (`w…`) or context (`c…`) token. Cached: the exact literal path decodes every token of
    every chunk a filter keeps (snapshot.py `matching`), and a corpus repeats a small vocabulary — a dict hit
    instead of a Python loop per character (without it, decoding took 60% of a hybrid query's time)."""
    chars, i = [], 1
    while i < len(token):
        first = _VALUE[token[i]]
        if first < _ASCII_FIRST:
            chars.append(chr(first * 36 + _VALUE[token[i + 1]] + 0x20))
            i += 2
        elif token[i] != _LONG:
            chars.append(chr(int(token[i : i + 3], 36) - _ASCII_FIRST * 1296))
            i += 3
        else:
            chars.append(chr(int(token[i + 1 : i + 5], 36)))
            i += 5
    return "".join(chars)


def text_tokens(analyzer: Analyzer, text: str, context: str = "") -> str:
    """The full-text field value of a chunk: the words and sub-words of its text (as the local index has
    them), then those of its context."""
    body = [encode(t.text) for t in analyzer.tokenize(text)]
    ctx = [encode_context(t.text) for t in analyzer.tokenize(context)] if context else []
    return " ".join(body + ctx)


TEXT_REPEAT = 3  # query-side term frequency: a word in the text weighs ~3x one in the context (local: 0.3)


def query_tokens(words: Iterable[str]) -> str:
    """A BM25 query for `words`: each word as a text token (repeated: Milvus BM25 counts query-side term
    frequency) and once as a context token."""
    unique = [w for w in dict.fromkeys(words) if w]
    return " ".join([encode(w) for w in unique for _ in range(TEXT_REPEAT)] + [encode_context(w) for w in unique])


def words_of(tokens: str) -> set[str]:
    """The words (text or context) a stored tokens field holds."""
    return {decode(t) for t in tokens.split()}


# -- character bigrams: an index for exact strings (snapshot.py `matching`, lookup.py) ----------------------

def _gram(pair: str) -> str:
    return "g" + "".join(_char(ch) for ch in pair)


def text_grams(text: str) -> str:
    """The `grams` field of a chunk: each distinct character bigram of its squeezed text (the letters, digits
    and ideographs `squeeze` keeps, normalised), as one ASCII token (`g` + both characters' codes), in first-
    seen order. A string of two or more characters that the squeezed text holds consecutively holds each of its
    bigrams, so the chunks holding every bigram of a needle are a superset of its exact matches (the local
    grams field's rule, storage/fulltext: there with positions, here without). Milvus indexes the field through
    a BM25 function (schema.py), so one token's chunks are an inverted-index lookup, not a scan of the text."""
    chars = squeeze(text)
    return " ".join(dict.fromkeys(_gram(chars[i : i + 2]) for i in range(len(chars) - 1)))


def needle_grams(needle: str) -> list[str]:
    """The distinct bigram tokens of a squeezed needle ([] for fewer than two characters)."""
    return list(dict.fromkeys(_gram(needle[i : i + 2]) for i in range(len(needle) - 1)))
