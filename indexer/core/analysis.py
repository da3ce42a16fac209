"""Chinese text analysis: jieba words with token positions and exact character offsets.

One `Analyzer` per dictionary configuration is loaded per process (jieba takes about a second) and
shared by indexing, query parsing and highlighting, so all three see the same words.

Decisions (see tests/quick/test_analysis.py):
- jieba runs without HMM: new-word guessing depends on the surrounding text, which would make a
  phrase segment differently inside a paragraph than alone in a query.  Unknown words fall apart
  into single characters, consistently on both sides, so phrases with them still match.
- Positions count words (0, 1, 2, ...); punctuation and whitespace are dropped and do not advance
  the position, so a phrase typed with other punctuation than the text still matches.
- Every word is kept in the index, function words included, so phrases containing 的/和 match.
  Function words are only dropped from *plain* query terms (see `is_stopword`).
- With `subwords=True` a long word also yields its dictionary sub-words (any length) at the
  *same* position: `信访` finds `信访积案`, while phrase positions stay those of the long words.
- Quotes, book-title marks and brackets *between two ideographs* do not separate words: the reports write
  “八五”普法, “三务”公开, 《民法典》宣传月, users type 八五普法. jieba sees the text without them (a word
  may then span a mark; its offsets still point into the original text). Elsewhere they are punctuation.
- Normalisation is length-preserving (full-width ASCII -> half-width, Latin lower-cased) so
  offsets always point into the caller's original text.
"""
from __future__ import annotations

import hashlib
import logging
import re
import sys
import threading
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import jieba

log = logging.getLogger(__name__)

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicon"
DOMAIN_DICT = LEXICON_DIR / "domain_dict.txt"  # curated by hand
GROWN_DICT = LEXICON_DIR / "grown_dict.txt"  # frequent corpus n-grams jieba splits (scripts/labs/grow_lexicon.py)
SYNONYMS = LEXICON_DIR / "synonyms.txt"  # groups of interchangeable words, for expansion
LEXICON_FILES = (DOMAIN_DICT, GROWN_DICT, SYNONYMS)  # anything that changes tokens: index caches key on them
ANALYZER_VERSION = 2  # bump when a code change here changes which words or offsets a text yields

# Function words that carry no topic; dropped from plain query terms only (never from the index).
STOPWORDS = frozenset(
    """的 地 得 了 着 过 和 与 及 以及 或 或者 并 并且 而 而且 等 等等 是 在 对 把 被 将 为 也 之 其 就 于
    以 从 向 由 吗 呢 吧 啊 呀 个 这 那 这些 那些 有 有没有 没有 是否 是不是 怎么 怎样 怎么样 如何 哪些
    什么 哪 都 又 还 要 会 能 可以 一些 一下 我们 你们 他们 它 它们 我 你 他 她""".split()
)


class _JiebaLogForwarder(logging.Handler):
    """jieba logs to its own stderr handler; route its records into our logger instead."""

    def emit(self, record: logging.LogRecord) -> None:
        log.debug("jieba: %s", record.getMessage())


def _silence_jieba() -> None:
    jlog = logging.getLogger("jieba")
    for handler in list(jlog.handlers):
        jlog.removeHandler(handler)
    jlog.addHandler(_JiebaLogForwarder())
    jlog.propagate = False


@dataclass(frozen=True)
class Token:
    text: str  # normalised word (what is indexed)
    start: int  # character offsets into the original text
    end: int
    pos: int  # word position; sub-words share their long word's position


def normalize_char(ch: str) -> str:
    """One character -> one character: full-width ASCII to half-width, Latin lower-cased."""
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:
        ch = chr(code - 0xFEE0)
    elif code == 0x3000:
        ch = " "
    low = ch.lower()
    return low if len(low) == 1 else ch


_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def normalize(text: str) -> str:
    """`normalize_char` over the text, as one translate + one lower() where that gives the same string.

    str.lower() works per character except for the final sigma and characters that lower to two (İ),
    which change the length: both are detected and fall back to the per-character loop. It runs on every
    chunk at indexing and on every shown hit at query time, so the fast path matters."""
    fast = text.translate(_FULL_WIDTH).lower()
    if len(fast) == len(text) and "Σ" not in text:
        return fast
    return "".join(normalize_char(ch) for ch in text)


# Marks that never split a term when they stand between ideographs (after `normalize`: （） are then ()).
INNER_MARKS = "“”‘’《》〈〉「」()"
_INNER = re.compile(f"(?<=[\u3400-\u9fff])[{re.escape(INNER_MARKS)}]+(?=[\u3400-\u9fff])")


def transparent(norm: str) -> tuple[str, list[int] | None]:
    """`norm` without the inner marks between ideographs, and for each kept character its offset in `norm`
    (None when nothing was dropped: the offsets are the identity)."""
    if not _INNER.search(norm):
        return norm, None
    keep: list[int] = []
    last = 0
    for m in _INNER.finditer(norm):
        keep.extend(range(last, m.start()))
        last = m.end()
    keep.extend(range(last, len(norm)))
    return "".join(norm[i] for i in keep), keep


def _is_word(token: str) -> bool:
    """False for punctuation, symbols and whitespace, which are not indexed."""
    return any(ch.isalnum() for ch in token)


def is_stopword(word: str) -> bool:
    return word in STOPWORDS


def read_dictionary(path: Path) -> list[tuple[str, int | None, str | None]]:
    """Parse a jieba-style dictionary (`word [freq] [tag]`), skipping blank and `#` comment lines."""
    entries: list[tuple[str, int | None, str | None]] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        word, freq, tag = parts[0], None, None
        if len(parts) > 1:
            try:
                freq = int(parts[1])
            except ValueError:
                tag = parts[1]
        if len(parts) > 2:
            tag = parts[2]
        if not _is_word(word):
            log.warning("%s:%d: ignoring dictionary entry %r", path, lineno, word)
            continue
        entries.append((normalize(word), freq, tag))
    return entries


def read_synonyms(path: Path) -> dict[str, tuple[str, ...]]:
    """Synonym groups, one per line: `上访 信访` (all interchangeable) or `老年人 => 养老 老人`
    (one way: the left word also finds the right ones). `#` starts a comment."""
    table: dict[str, list[str]] = {}

    def add(word: str, others: Iterable[str]) -> None:
        entry = table.setdefault(word, [])
        entry.extend(o for o in others if o != word and o not in entry)

    for lineno, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        left, arrow, right = line.partition("=>")
        if arrow:
            sources, targets = [normalize(w) for w in left.split()], [normalize(w) for w in right.split()]
            for w in sources:
                add(w, targets)
        else:
            group = [normalize(w) for w in line.split()]
            if len(group) < 2:
                log.warning("%s:%d: a synonym group needs two words or more", path, lineno)
            for w in group:
                add(w, group)
    return {w: tuple(others) for w, others in table.items() if others}


class BaseDictionary:
    """jieba's default dictionary (word and prefix frequencies, their total), loaded once per process (~1 s; a
    build used to load it twice: the analyzer and the figure extractor, pipeline/figures/words.py). Read-only:
    a tokenizer that adds words (the Analyzer) copies it first."""

    def __init__(self) -> None:
        self._loaded: tuple[dict[str, int], int] | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[dict[str, int], int]:
        with self._lock:
            if self._loaded is None:
                _silence_jieba()
                words = jieba.Tokenizer()
                words.initialize()
                self._loaded = (words.FREQ, words.total)
            return self._loaded

    def freq(self) -> dict[str, int]:
        return self._load()[0]

    def total(self) -> int:
        return self._load()[1]


BASE_DICTIONARY = BaseDictionary()


class Analyzer:
    """A private jieba tokenizer with our dictionaries. Thread-safe after construction."""

    def __init__(self, user_dict: Path | None = None, subwords: bool = True):
        self.user_dict = user_dict
        self.subwords = subwords
        _silence_jieba()
        self._jieba = jieba.Tokenizer()  # own instance: the global one may carry others' words
        self._jieba.FREQ, self._jieba.total = dict(BASE_DICTIONARY.freq()), BASE_DICTIONARY.total()
        self._jieba.initialized = True
        dicts = [p for p in (DOMAIN_DICT, GROWN_DICT) if p.exists()] + ([user_dict] if user_dict else [])
        for path in dicts:
            for word, freq, tag in read_dictionary(path):
                self._jieba.add_word(word, freq, tag)
        # Not added to jieba: a synonym that is no dictionary word (骗钱) would change how queries cut.
        self._synonyms = read_synonyms(SYNONYMS) if SYNONYMS.exists() else {}
        log.info("jieba loaded with %s", ", ".join(str(p) for p in dicts))

    def synonyms(self, word: str) -> tuple[str, ...]:
        """Words that may stand for `word` (not including it); empty for most words."""
        return self._synonyms.get(word, ())

    def _subwords(self, word: str) -> Iterator[tuple[int, int]]:
        """Offsets (relative to the word) of its dictionary sub-words, longest first."""
        freq = self._jieba.FREQ
        n = len(word)
        for length in range(n - 1, 1, -1):
            for i in range(n - length + 1):
                if freq.get(word[i : i + length]):
                    yield i, i + length

    def tokenize(self, text: str, subwords: bool | None = None, synonyms: bool = False) -> list[Token]:
        """Words of `text` with positions and offsets; sub-words follow their long word.

        With `synonyms=True` each word (and sub-word) with synonyms is followed by them, at the same
        position and offsets, so an index built this way finds 信访 for 上访 and highlighting marks the
        word the text actually uses."""
        if synonyms and self._synonyms:
            out: list[Token] = []
            for t in self.tokenize(text, subwords):
                out.append(t)
                out.extend(Token(s, t.start, t.end, t.pos) for s in self._synonyms.get(t.text, ()))
            return out
        with_sub = self.subwords if subwords is None else subwords
        squeezed, keep = transparent(normalize(text))
        tokens: list[Token] = []
        pos = 0
        for word, start, end in self._jieba.tokenize(squeezed, HMM=False):
            if not _is_word(word):
                continue
            tokens.append(_token(word, start, end, pos, keep))
            if with_sub and len(word) > 2 and not word.isascii():
                for s, e in self._subwords(word):
                    tokens.append(_token(word[s:e], start + s, start + e, pos, keep))
            pos += 1
        return tokens

    def words(self, text: str) -> list[str]:
        """The words of `text` in order, without sub-words (how a query phrase is matched)."""
        return [t.text for t in self.tokenize(text, subwords=False)]


def _token(word: str, start: int, end: int, pos: int, keep: list[int] | None) -> Token:
    """A token at offsets of the squeezed text, placed in the original (a word across a mark spans it)."""
    if keep is None:
        return Token(word, start, end, pos)
    return Token(word, keep[start], keep[end - 1] + 1, pos)


_cache: dict[tuple[str, bool], Analyzer] = {}
_cache_lock = threading.Lock()
_default_user_dict: Path | None = None


def get_analyzer(user_dict: Path | None = None, subwords: bool = True) -> Analyzer:
    """The process-wide analyzer for this configuration (loaded on first use)."""
    key = (str(Path(user_dict).resolve()) if user_dict else "", subwords)
    with _cache_lock:
        analyzer = _cache.get(key)
        if analyzer is None:
            analyzer = Analyzer(Path(key[0]) if key[0] else None, subwords)
            _cache[key] = analyzer
        return analyzer


def configure(user_dict: Path | None) -> None:
    """Set the user dictionary used by `default_analyzer()` (call once at start-up with Config.analysis.user_dict)."""
    global _default_user_dict
    _default_user_dict = Path(user_dict) if user_dict else None


def default_analyzer() -> Analyzer:
    """The analyzer for query parsing and highlighting; must match the one the index was built with."""
    return get_analyzer(_default_user_dict)


def tokenize(text: str) -> list[Token]:
    return default_analyzer().tokenize(text)


def squeeze(text: str) -> str:
    """The normalised letters, digits and ideographs of `text`, in order: what a quoted phrase is matched on
    (punctuation and whitespace aside) by the grams field, the Milvus client-side check and highlighting."""
    return "".join(c for c in normalize(text) if c.isalnum())


def squeeze_offsets(text: str) -> list[int]:
    """Where each character of `squeeze(text)` stands in `text` (normalisation keeps offsets)."""
    return [i for i, c in enumerate(normalize(text)) if c.isalnum()]


def char_grams(text: str) -> list[str]:
    """Overlapping character bigrams of the normalised letters/digits/ideographs of `text`, plus
    the last character alone, in order (punctuation and whitespace skipped).

    Indexed with consecutive positions they give exact substring matching for quoted phrases,
    independent of how jieba happens to segment the surrounding text: a phrase of n >= 2 characters
    is its n-1 bigrams at consecutive positions; one character is any gram starting with it.
    """
    chars = squeeze(text)
    if not chars:
        return []
    grams = [chars[i] + chars[i + 1] for i in range(len(chars) - 1)]
    grams.append(chars[-1])
    return grams


def phrase_grams(phrase: str) -> list[str]:
    """The grams a phrase must match consecutively (for one character: that character alone)."""
    chars = squeeze(phrase)
    if len(chars) < 2:
        return list(chars)
    return [chars[i] + chars[i + 1] for i in range(len(chars) - 1)]


# -- word offsets: what the index matched, stored per chunk so query time needs no tokenizing ---------

def signature(user_dict: Path | None = None, subwords: bool = True) -> str:
    """A digest of everything that decides how text is cut into words (dictionaries, sub-word setting,
    ANALYZER_VERSION): an index whose words were cut under another signature must be rebuilt."""
    h = hashlib.sha1(f"v{ANALYZER_VERSION} subwords={subwords}".encode())
    for path in [*LEXICON_FILES, *([Path(user_dict)] if user_dict else [])]:
        h.update(path.name.encode())
        h.update(path.read_bytes() if path.exists() else b"(missing)")
    return h.hexdigest()[:16]


def pack_word_offsets(tokens: Iterable[Token]) -> bytes | None:
    """The (start, end) offsets of a text's words and sub-words as little-endian uint16 pairs; None for a
    text too long for 16-bit offsets (the caller then tokenizes at query time)."""
    flat = array("H")
    try:
        for t in tokens:
            flat.append(t.start)
            flat.append(t.end)
    except OverflowError:
        return None
    if sys.byteorder == "big":  # pragma: no cover - stored files are little-endian everywhere
        flat.byteswap()
    return flat.tobytes()


def unpack_word_offsets(blob: bytes) -> frozenset[tuple[int, int]]:
    flat = array("H")
    flat.frombytes(blob)
    if sys.byteorder == "big":  # pragma: no cover
        flat.byteswap()
    it = iter(flat)
    return frozenset(zip(it, it))
