"""Word boundaries and parts of speech for the figure rules: jieba's default dictionary, in an instance of our own
(the global one may carry words others added, which would change what is extracted from one process to the next).

Nothing is loaded twice per process (a build's figures stage was ~half this fixed cost on a rebuild from a warm
embedding cache): the word frequencies are the analyzer's copy of jieba's default dictionary
(core/analysis.py BASE_DICTIONARY, never changed), and the parts of speech the table `import jieba.posseg`
already read from that dictionary's file, taken while it surely holds exactly that file's words.
"""
from __future__ import annotations

import functools
import logging
import threading

import jieba
import jieba.posseg

from indexer.core.analysis import BASE_DICTIONARY

log = logging.getLogger(__name__)
_lock = threading.Lock()


class _Tagger(jieba.posseg.POSTokenizer):
    """posseg over a given tokenizer and part-of-speech table (its own __init__ reads the dictionary file)."""

    def __init__(self, tokenizer: jieba.Tokenizer, word_tags: dict[str, str]):
        self.tokenizer = tokenizer
        self.word_tag_tab = word_tags


def _default_word_tags(words: jieba.Tokenizer) -> dict[str, str]:
    """jieba.posseg's table of the default dictionary, copied (posseg would later merge into it the tagged words
    someone added to the global jieba), while it surely still is exactly that: the global jieba has not cut yet
    (posseg merges only while cutting, and cutting initializes it). Else it is read from the file again."""
    if not jieba.dt.initialized:
        return dict(jieba.posseg.dt.word_tag_tab)
    log.debug("the global jieba has been used: reading the part-of-speech table again")
    return jieba.posseg.POSTokenizer(words).word_tag_tab


@functools.cache
def _tokenizer() -> jieba.posseg.POSTokenizer:
    with _lock:
        words = jieba.Tokenizer()
        # shared, not copied: this tokenizer never adds words, so the table is only read
        words.FREQ, words.total, words.initialized = BASE_DICTIONARY.freq(), BASE_DICTIONARY.total(), True
        return _Tagger(words, _default_word_tags(words))


def cut(text: str) -> list[str]:
    return _tokenizer().tokenizer.lcut(text, HMM=False)


def tag(text: str) -> list[tuple[str, str]]:
    """(word, part of speech) pairs: v verb, n noun, ns place, p preposition, d adverb, m numeral, …"""
    return [(w.word, w.flag) for w in _tokenizer().lcut(text, HMM=False)]
