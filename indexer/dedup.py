"""Boilerplate detection: wording that several reports share.

Stock phrases such as 小事不出村，大事不出乡，矛盾不上交 recur across reports; grouping them lets search
show one copy with "N 份报告有相同表述" instead of N copies crowding out distinctive practices.
Two levels:

- Build time (`duplicate_groups`): chunks of different documents that are the same text after
  normalisation, or near-duplicates -- Jaccard similarity of their character 4-gram sets at least
  NEAR_JACCARD, found with MinHash + LSH so 56k chunks take seconds, then verified exactly. A group is
  collapsed on every query.
- Query time (`shared_sentence_groups`): hits whose *only* literal match lies in a sentence that other
  hits from other reports also carry (a slogan quoted inside otherwise different paragraphs). Those are
  one result for *this* query; for a query matching their distinctive parts they stay separate.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections import Counter
from itertools import chain
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from indexer.catalog import Catalog

# Everything but letters, digits and CJK: punctuation and spacing differ between copies of one sentence.
_NOISE = re.compile(r"[^\w]|_", re.UNICODE)
MIN_CHARS = 12  # very short chunks are too generic to call shared wording
SHINGLE = 4  # characters per shingle
NEAR_JACCARD = 0.7  # near-duplicate: ~ a sentence or two reworded in a paragraph of several
NUM_PERM, BANDS = 64, 16  # LSH: 4 rows per band finds pairs at Jaccard 0.7 with probability > 0.99
_PRIME = np.uint64((1 << 61) - 1)


def normalize(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def normalized_key(text: str) -> str | None:
    norm = normalize(text)
    if len(norm) < MIN_CHARS:
        return None
    return hashlib.blake2b(norm.encode(), digest_size=12).hexdigest()


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


def near_duplicate_pairs(texts: Sequence[str], owners: Sequence[str]) -> list[tuple[int, int]]:
    """Index pairs (i, j) of texts from different owners with shingle Jaccard >= NEAR_JACCARD."""
    norms = [normalize(t) for t in texts]
    keep = [i for i, n in enumerate(norms) if len(n) >= MIN_CHARS]
    if len(keep) < 2:
        return []
    pairs: set[tuple[int, int]] = set()
    _link_near_duplicates(_minhash([shingles(norms[i]) for i in keep]), keep, norms, owners,
                          linked=lambda i, j: (i, j) in pairs, link=lambda i, j: pairs.add((i, j)))
    return sorted(pairs)


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
SEGMENT_CONTAINMENT = 0.8  # share of the shorter segment's character pairs found in the other


@dataclass(frozen=True)
class HitText:
    chunk_id: int
    doc_id: str
    text: str
    spans: tuple[tuple[int, int], ...]  # where the query matches literally


def _bigrams(norm: str) -> set[str]:
    return {norm[i : i + 2] for i in range(len(norm) - 1)}


_DELIMITERS = "。！？；!?;“”「」『』\"\n"  # what ends a segment (a sentence or a quoted part)
_DELIMITER = re.compile(f"[{re.escape(_DELIMITERS)}]")


def matched_segment(hit: HitText) -> str | None:
    """The one sentence/quoted segment holding every literal match of the hit, normalised; None when the
    matches spread over several segments (the hit matched on its own content) or there are none.

    Looks only around the matches (the segments are the runs between _DELIMITERS): it runs for up to 100
    hits per query."""
    if not hit.spans:
        return None
    text = hit.text
    first, last = min(s[0] for s in hit.spans), max(s[1] for s in hit.spans)
    if _DELIMITER.search(text, first, last):
        return None  # a delimiter between (or inside) the matches: more than one segment
    start = max(text.rfind(c, 0, first) for c in _DELIMITERS) + 1
    after = _DELIMITER.search(text, last)
    found = normalize(text[start : after.start() if after else len(text)])
    return found if len(found) >= SEGMENT_MIN_CHARS else None


def shared_sentence_groups(hits: Iterable[HitText]) -> list[list[int]]:
    """Groups of chunk ids (in the given rank order) of hits from different documents whose only literal
    match is the same stock sentence; each group's first id is the copy to show.

    A hit joins the first cluster (in order of creation) whose first segment shares at least
    SEGMENT_CONTAINMENT of the shorter one's character pairs with its own. Shared pairs are counted through
    an inverted list of pairs, so a hit is compared only with clusters it shares something with."""
    clusters: list[tuple[int, list[HitText]]] = []  # (number of pairs of the first segment, members)
    postings: dict[str, list[int]] = {}  # pair -> clusters whose first segment has it, ascending
    # A segment identical to a cluster's first one fits no earlier cluster (else that first segment would
    # have joined it), so the lookup gives the same cluster as counting would.
    exact: dict[str, int] = {}
    for hit in hits:
        segment = matched_segment(hit)
        if segment is None:
            continue
        grams = _bigrams(segment)
        chosen = exact.get(segment)  # an identical first segment is the first cluster it fits (see below)
        if chosen is None:
            shared = Counter(chain.from_iterable(postings.get(g, ()) for g in grams))  # counted in C
            chosen = next((c for c in sorted(shared)
                           if shared[c] / min(len(grams), clusters[c][0]) >= SEGMENT_CONTAINMENT), None)
        if chosen is not None:
            members = clusters[chosen][1]
            if all(m.doc_id != hit.doc_id for m in members):
                members.append(hit)
        else:
            for g in grams:
                postings.setdefault(g, []).append(len(clusters))
            exact[segment] = len(clusters)
            clusters.append((len(grams), [hit]))
    return [[m.chunk_id for m in members] for _, members in clusters if len(members) > 1]
