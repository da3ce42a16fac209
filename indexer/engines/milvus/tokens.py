"""Our analyzer's words, stored in a form every Milvus tokenizer keeps whole.

Milvus's `standard` tokenizer "splits text based on spaces and punctuation marks"; its docs say languages
such as Chinese "require dictionary-based tokenization" (https://milvus.io/docs/standard-tokenizer.md,
https://milvus.io/docs/standard-analyzer.md), and measured on Milvus Lite 3.2.2 a run of Han characters stays
ONE token (心桥 does not match 心桥工程). Lite offers only the `standard` and `jieba` tokenizers, and the server's
jieba is not ours (other dictionary, no domain lexicon). So we segment on the client with
`indexer.core.analysis` — the same words and sub-words the local full-text index stores — and write each word
as `w` + the hex of its UTF-8 bytes: ASCII letters and digits only, separated by spaces, which `standard`
(and any whitespace tokenizer) keeps as one token each, lower-case already. Queries encode the same way.
"""
from __future__ import annotations

from typing import Iterable

from indexer.core.analysis import Analyzer


def encode(word: str) -> str:
    return "w" + word.encode("utf-8").hex()


def decode(token: str) -> str:
    """The word of a text (`w…`) or context (`c…`) token."""
    return bytes.fromhex(token[1:]).decode("utf-8")


def encode_context(word: str) -> str:
    """A word of the chunk's context (heading path + title): its own token, so BM25 gives words that every
    chunk of a report shares (its title) the low weight their document frequency earns — the local index
    keeps context in a separate, lower-weighted field for the same reason."""
    return "c" + word.encode("utf-8").hex()


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
