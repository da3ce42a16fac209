"""Boilerplate detection: wording that several reports share.

Stock phrases such as 小事不出村，大事不出乡，矛盾不上交 recur across reports. Whole paragraphs copied
between reports are shown once with "N 份报告有相同表述"; a shared sentence inside otherwise different
paragraphs is only marked on each of them.
Two levels:

- Build time (`duplicate_groups`): chunks of different documents that are the same text after
  normalisation, or near-duplicates -- Jaccard similarity of their character 4-gram sets at least
  NEAR_JACCARD, found with MinHash + LSH so 56k chunks take seconds, then verified exactly. A group is
  collapsed on every query.
- Query time (`matched_sentence`, `contains_sentence`): a shown hit whose literal matches all lie in one
  sentence that other reports' hits also carry (a slogan quoted inside otherwise different paragraphs) is
  *marked* with those reports. It is never hidden: the paragraphs differ, only the slogan is shared.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
import zlib
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from indexer.storage.catalog import Catalog

# Everything but letters, digits and CJK: punctuation and spacing differ between copies of one sentence.
_NOISE = re.compile(r"[^\w]|_", re.UNICODE)
MIN_CHARS = 12  # very short chunks are too generic to call shared wording
SHINGLE = 4  # characters per shingle
NEAR_JACCARD = 0.7  # near-duplicate: ~ a sentence or two reworded in a paragraph of several
NUM_PERM, BANDS = 64, 16  # LSH: 4 rows per band finds pairs at Jaccard 0.7 with probability > 0.99
_PRIME = np.uint64((1 << 61) - 1)


def normalize(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def shingles(norm: str, size: int = SHINGLE) -> set[str]:
    if len(norm) <= size:
        return {norm} if norm else set()
    return {norm[i : i + size] for i in range(len(norm) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = self.parent.setdefault(x, x)
        while root != self.parent[root]:
            root = self.parent[root]
        while x != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _minhash(shingle_sets: Sequence[set[str]]) -> np.ndarray:
    """MinHash signatures (n, NUM_PERM) with a fixed seed, so groups are the same on every run."""
    rng = np.random.default_rng(20240227)
    a = rng.integers(1, int(_PRIME), NUM_PERM, dtype=np.uint64)
    b = rng.integers(0, int(_PRIME), NUM_PERM, dtype=np.uint64)
    out = np.empty((len(shingle_sets), NUM_PERM), dtype=np.uint64)
    for i, sh in enumerate(shingle_sets):
        h = np.fromiter((zlib.crc32(s.encode()) for s in sh), dtype=np.uint64, count=len(sh))
        # Multiply-add hashing in wrapping 64-bit arithmetic: cheap, and a fine permutation family here.
        out[i] = ((a[:, None] * h[None, :] + b[:, None]) % _PRIME).min(axis=1)
    return out


def _link_near_duplicates(sig: np.ndarray, keep: list[int], norms: Sequence[str], owners: Sequence[str],
                          linked: Callable[[int, int], bool], link: Callable[[int, int], None]) -> None:
    """Check the LSH candidates among the signatures of `keep` (row k is text keep[k]) exactly, and
    `link` the near-duplicates. Pairs already `linked` (e.g. in one group) are not checked again: stock
    paragraphs copied into hundreds of reports would otherwise cost a Jaccard test per pair."""
    rows = NUM_PERM // BANDS
    sets: dict[int, set[str]] = {}  # shingles only for the texts that are candidates
    checked: set[tuple[int, int]] = set()  # a pair found in several bands is compared once

    def shingle_set(k: int) -> set[str]:
        if k not in sets:
            sets[k] = shingles(norms[keep[k]])
        return sets[k]

    for band in range(BANDS):
        buckets: dict[bytes, list[int]] = {}
        block = np.ascontiguousarray(sig[:, band * rows : (band + 1) * rows])
        for k in range(len(keep)):
            buckets.setdefault(block[k].tobytes(), []).append(k)
        for members in buckets.values():
            if not 1 < len(members) <= 200:  # a huge bucket is a very common short text, not a report's wording
                continue
            for a in range(len(members)):
                for b in range(a + 1, len(members)):
                    x, y = members[a], members[b]
                    i, j = keep[x], keep[y]
                    if owners[i] == owners[j] or (x, y) in checked or linked(i, j):
                        continue
                    checked.add((x, y))
                    if jaccard(shingle_set(x), shingle_set(y)) >= NEAR_JACCARD:
                        link(i, j)


def duplicate_groups(catalog: Catalog) -> dict[int, int]:
    """chunk_id -> group id for chunks whose (near-)identical text occurs in two or more documents.

    MinHash signatures are kept in the catalog, so an incremental run signs only its new chunks."""
    ids: list[int] = []
    docs: list[str] = []
    norms: list[str] = []
    for row in catalog.iter_chunks():
        ids.append(row.chunk_id)
        docs.append(row.doc_id)
        norms.append(normalize(row.text))
    uf = _UnionFind()
    by_norm: dict[str, int] = {}
    for i, norm in enumerate(norms):
        if len(norm) < MIN_CHARS:
            continue
        if norm in by_norm:
            uf.union(ids[by_norm[norm]], ids[i])
        else:
            by_norm[norm] = i
    keep = [i for i, n in enumerate(norms) if len(n) >= MIN_CHARS]
    known = catalog.minhash_signatures()
    missing = [i for i in keep if ids[i] not in known]
    fresh = _minhash([shingles(norms[i]) for i in missing]) if missing else np.empty((0, NUM_PERM), np.uint64)
    catalog.put_minhash_signatures({ids[i]: fresh[k].tobytes() for k, i in enumerate(missing)})
    made = {ids[i]: fresh[k] for k, i in enumerate(missing)}
    if len(keep) >= 2:
        sig = np.stack([made[ids[i]] if ids[i] in made else np.frombuffer(known[ids[i]], dtype=np.uint64)
                        for i in keep])
        _link_near_duplicates(sig, keep, norms, docs, linked=lambda i, j: uf.find(ids[i]) == uf.find(ids[j]),
                              link=lambda i, j: uf.union(ids[i], ids[j]))
    members: dict[int, list[int]] = {}
    doc_of = dict(zip(ids, docs))
    for cid in list(uf.parent):
        members.setdefault(uf.find(cid), []).append(cid)
    groups: dict[int, int] = {}
    for root, cids in members.items():
        if len({doc_of[c] for c in cids}) < 2:
            continue
        for cid in cids:
            groups[cid] = root  # the union-find root is the smallest member id: stable across runs
    return groups


# -- query time ------------------------------------------------------------------------------------

SEGMENT_MIN_CHARS = 8  # a slogan of two clauses at least; shorter shared bits are just common words
# Share of the shorter segment's character pairs found in the other: a loose pre-check (a same sentence,
# below, shares at least ~3/4 of them) that leaves the exact check few candidates.
PAIR_PRECHECK = 0.5
# Same sentence: at most one character in ten differs (punctuation aside). 小事不出村，大事不出乡 and
# 小事不出村、大事不出乡 are one sentence; 微事不出格、小事不出村、大事不出乡 is another wording of it.
SENTENCE_SIMILARITY = 0.9


@dataclass(frozen=True)
class MatchedSentence:
    """The sentence (or quoted part) of a hit that holds all of its literal matches."""

    start: int  # in the hit's text
    end: int
    norm: str  # normalize() of text[start:end]
    anchor: str  # the longest literal match as written: a copy's sentence must hold it too


def _bigrams(norm: str) -> set[str]:
    return {norm[i : i + 2] for i in range(len(norm) - 1)}


_DELIMITERS = "。！？；!?;“”「」『』\"\n"  # what ends a segment (a sentence or a quoted part)
_DELIMITER = re.compile(f"[{re.escape(_DELIMITERS)}]")


def _segment_at(text: str, first: int, last: int) -> tuple[int, int]:
    """The segment around text[first:last] (which holds no delimiter)."""
    start = max(text.rfind(c, 0, first) for c in _DELIMITERS) + 1
    after = _DELIMITER.search(text, last)
    return start, after.start() if after else len(text)


def matched_sentence(text: str, spans: Sequence[tuple[int, int]]) -> MatchedSentence | None:
    """The one sentence/quoted segment holding every literal match; None when the matches spread over
    several segments (the hit matched on its own content), there are none, or the segment is too short
    to be a stock sentence. Looks only around the matches (segments are the runs between _DELIMITERS)."""
    if not spans:
        return None
    first, last = min(s[0] for s in spans), max(s[1] for s in spans)
    if _DELIMITER.search(text, first, last):
        return None  # a delimiter between (or inside) the matches: more than one segment
    start, end = _segment_at(text, first, last)
    norm = normalize(text[start:end])
    if len(norm) < SEGMENT_MIN_CHARS:
        return None
    longest = max(spans, key=lambda s: s[1] - s[0])
    return MatchedSentence(start, end, norm, text[longest[0] : longest[1]])


def same_sentence(a: str, b: str) -> bool:
    """Two normalised segments are one stock sentence: the same words, punctuation aside, give or take a
    character in ten (小事不出村，大事不出乡 = 小事不出村、大事不出乡; not 小事不出村、大事不出镇、矛盾不上交、就地解决好,
    nor one with a clause added in front: a reader comparing wordings must not be told they are the same)."""
    return _near_same(a, b, SENTENCE_SIMILARITY)


def _near_same(a: str, b: str, similarity: float) -> bool:
    """1 - edit distance / longer length >= similarity (length and shared pairs checked first: cheap)."""
    longer = max(len(a), len(b))
    if not longer:
        return False
    budget = int(longer * (1 - similarity) + 1e-9)  # edits allowed
    if abs(len(a) - len(b)) > budget:
        return False
    if a == b:
        return True
    return _edit_distance(a, b, budget) <= budget


def _edit_distance(a: str, b: str, budget: int) -> int:
    """Levenshtein distance, or budget + 1 as soon as it must exceed `budget` (banded: O(len * budget))."""
    if len(a) > len(b):
        a, b = b, a
    inf = budget + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        low, high = max(1, i - budget), min(len(b), i + budget)
        current = [inf] * (len(b) + 1)
        current[0] = i if i <= budget else inf
        for j in range(low, high + 1):
            cost = 0 if ca == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        if min(current[max(0, low - 1) : high + 1]) > budget:
            return inf
        previous = current
    return min(previous[len(b)], inf)


def segments_holding(text: str, anchor: str) -> list[str]:
    """The normalised segments of `text` (long enough to be a stock sentence) that hold `anchor`.

    Found from the anchor's occurrences, so a text is never normalised whole: normalising (NFKC) costs
    about a microsecond a character, and this runs over a query's top hits."""
    out: list[str] = []
    at = text.find(anchor) if anchor else -1
    if at == -1:
        return out
    cuts = [m.start() for m in _DELIMITER.finditer(text)]  # once per text: a common word occurs often
    while at != -1:
        # as _segment_at: after the last delimiter before the anchor, up to the first one at or after its end
        before = bisect.bisect_left(cuts, at)
        after = bisect.bisect_left(cuts, at + len(anchor))
        start, end = (cuts[before - 1] + 1 if before else 0), (cuts[after] if after < len(cuts) else len(text))
        seg = normalize(text[start:end])
        if len(seg) >= SEGMENT_MIN_CHARS:
            out.append(seg)
        at = text.find(anchor, end)
    return out


def contains_sentence(text: str, sentence: MatchedSentence) -> bool:
    """Whether a segment of `text` holding the sentence's anchor is the same stock sentence."""
    return any(same_sentence(seg, sentence.norm) for seg in segments_holding(text, sentence.anchor))


class SentencePool:
    """The texts of a query's top literal hits, to find which of them carry a shown hit's sentence: the
    same answers as `contains_sentence` for every text, at a fraction of the cost when a page shows many
    hits (a comparison table shows up to 100).

    Per anchor (a query word; a query has few), the segments of the texts holding it are cut and
    normalised once and sorted by length; a sentence is then compared with those of a length it can be the
    same as (the character pairs they share first, then the edit distance)."""

    def __init__(self, texts: dict[int, str]):
        self._texts = texts
        self._by_anchor: dict[str, tuple[list[int], list[tuple[int, str]]]] = {}
        self._holders: dict[tuple[str, str], set[int]] = {}

    def _index(self, anchor: str) -> tuple[list[int], list[tuple[int, str]]]:
        """The segments holding `anchor` (text key, segment) by length, and their lengths."""
        found = self._by_anchor.get(anchor)
        if found is None:
            segments = sorted(((key, seg) for key, text in self._texts.items() if anchor in text
                               for seg in segments_holding(text, anchor)), key=lambda ks: len(ks[1]))
            found = self._by_anchor[anchor] = [len(seg) for _, seg in segments], segments
        return found

    def holders(self, sentence: MatchedSentence) -> set[int]:
        """Keys of the texts that have a segment holding the anchor that is the same stock sentence."""
        cache_key = (sentence.anchor, sentence.norm)
        found = self._holders.get(cache_key)
        if found is None:
            lengths, segments = self._index(sentence.anchor)
            mine, n = _bigrams(sentence.norm), len(sentence.norm)
            # Only lengths same_sentence can accept (a character in ten), then the pairs shared (a same
            # sentence shares nearly all of them): cheap necessary conditions before the exact definition.
            lo = bisect.bisect_left(lengths, n - int(n * (1 - SENTENCE_SIMILARITY) + 1e-9))
            hi = bisect.bisect_right(lengths, int(n / SENTENCE_SIMILARITY) + 1)
            found = set()
            for key, seg in segments[lo:hi]:
                grams = _bigrams(seg)
                shared = len(mine & grams)
                if shared and shared / min(len(mine), len(grams)) >= PAIR_PRECHECK \
                        and same_sentence(seg, sentence.norm):
                    found.add(key)
            self._holders[cache_key] = found
        return found

    def contains(self, key: int, sentence: MatchedSentence) -> bool:
        return key in self.holders(sentence)
