"""Word boundaries and parts of speech for the figure rules: jieba's default dictionary, in an instance of our own
(the global one may carry words others added, which would change what is extracted from one process to the next)."""
from __future__ import annotations

import functools
import threading

import jieba
import jieba.posseg

_lock = threading.Lock()


@functools.cache
def _tokenizer() -> jieba.posseg.POSTokenizer:
    with _lock:
        words = jieba.Tokenizer()
        words.initialize()
        return jieba.posseg.POSTokenizer(words)


def cut(text: str) -> list[str]:
    return _tokenizer().tokenizer.lcut(text, HMM=False)


def tag(text: str) -> list[tuple[str, str]]:
    """(word, part of speech) pairs: v verb, n noun, ns place, p preposition, d adverb, m numeral, …"""
    return [(w.word, w.flag) for w in _tokenizer().lcut(text, HMM=False)]
