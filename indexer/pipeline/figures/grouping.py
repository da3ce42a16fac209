"""Group measures that are the same thing in different words (调解矛盾纠纷 / 化解矛盾纠纷, 发放宣传资料 / 发放宣传材料).

Average-linkage agglomerative clustering: two groups merge while the mean similarity between their members is at
least `threshold`. The similarity of two measures is the cosine of their embeddings plus a small share of their
character-bigram overlap; it is vetoed (never merged) when the two differ in kind (a rate, a change, a level:
执法人员持证率 ≠ 新增持证执法人员, 生产总值增长 ≠ 生产总值), in their numerals (第一 ≠ 第二产业产值), in a negation
(满意 ≠ 不满意) or by a contrasting pair (精简前 ≠ 精简后, 收入 ≠ 支出): the embedding of the shared words
outweighs the one that differs, and exactly that one decides. The encoder is passed in (anything with
`encode(texts) -> L2-normalised rows`, e.g. indexer.storage.vectors.Encoder), so this module stays below the index layers.

Scored by `python -m indexer.evaluation.figure_groups tests/data/figures/measure_groups.tsv`.
"""
from __future__ import annotations

import csv
import itertools
import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.90
LEXICAL_WEIGHT = 0.2  # share of character-bigram overlap added to the cosine

_RATE = re.compile(r"率|比例|占比|满意度")
_CHANGE = re.compile(r"(?:增长|下降|增加|减少|提高|降低|上升|增幅|降幅)$")
_NUMERALS = frozenset("零〇一二两三四五六七八九十百千0123456789")
_NEGATIONS = ("不", "未", "无")
# General antonyms of position and direction (not taken from the judged groups, though 前/后 occurs there).
CONTRASTS = (("前", "后"), ("上", "下"), ("增加", "减少"), ("收入", "支出"), ("进口", "出口"), ("开工", "竣工"))


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def cluster(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Average-linkage clusters of a symmetric similarity matrix, merged while the best mean link >= threshold.

    -inf entries (vetoed pairs) keep any two clusters holding them apart. O(n^2) numpy work per merge."""
    n = len(similarity)
    members: list[list[int]] = [[i] for i in range(n)]
    # link[a, b]: sum of similarities between members of clusters a and b (mean = sum / (|a| * |b|))
    link = similarity.astype(np.float64).copy()
    np.fill_diagonal(link, -np.inf)
    sizes = np.ones(n)
    alive = np.ones(n, dtype=bool)
    while alive.sum() > 1:
        mean = link / np.outer(sizes, sizes)
        mean[~alive, :] = -np.inf
        mean[:, ~alive] = -np.inf
        x, y = np.unravel_index(int(np.argmax(mean)), mean.shape)
        if not mean[x, y] >= threshold:  # also stops on -inf / nan
            break
        x, y = min(x, y), max(x, y)
        members[x].extend(members[y])
        members[y] = []
        link[x, :] += link[y, :]
        link[:, x] += link[:, y]
        link[x, x] = -np.inf
        sizes[x] += sizes[y]
        alive[y] = False
    return [sorted(m) for m in members if m]


def kind(measure: str) -> str:
    """rate (…率, 满意度), change (…增长), or level: measures of different kinds are never the same measure."""
    if _CHANGE.search(measure):
        return "change"
    return "rate" if _RATE.search(measure) else "level"


def different(a: str, b: str) -> bool:
    """True when a and b cannot be the same measure, however close their embeddings are."""
    if kind(a) != kind(b):
        return True
    if {c for c in a if c in _NUMERALS} != {c for c in b if c in _NUMERALS}:
        return True
    if any((n in a) != (n in b) for n in _NEGATIONS):
        return True
    return any((x in a and y in b and x not in b and y not in a) or (y in a and x in b and y not in b and x not in a)
               for x, y in CONTRASTS)


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def similarity(measures: Sequence[str], vectors: np.ndarray) -> np.ndarray:
    """Cosine + LEXICAL_WEIGHT * bigram Jaccard, -inf where `different` vetoes the pair."""
    sim = (vectors @ vectors.T).astype(np.float64)
    grams = [_bigrams(m) for m in measures]
    for i, j in itertools.combinations(range(len(measures)), 2):
        if different(measures[i], measures[j]):
            sim[i, j] = sim[j, i] = -np.inf
        else:
            overlap = len(grams[i] & grams[j]) / len(grams[i] | grams[j])
            sim[i, j] = sim[j, i] = sim[i, j] + LEXICAL_WEIGHT * overlap
    return sim


def group_measures(measures: Sequence[str], encoder: TextEncoder,
                   threshold: float = DEFAULT_THRESHOLD) -> list[list[str]]:
    """Distinct measures grouped by meaning; each group in input order, groups by first member."""
    distinct = list(dict.fromkeys(m for m in measures if m))
    if not distinct:
        return []
    vectors = np.asarray(encoder.encode(distinct), dtype=np.float32)
    groups = cluster(similarity(distinct, vectors), threshold)
    return sorted(([distinct[i] for i in g] for g in groups), key=lambda g: distinct.index(g[0]))


def read_groups(path: Path) -> dict[str, list[str]]:
    if not path.is_file():
        raise SystemExit(f"measure groups not found: {path}")
    groups: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        if next(reader, None) != ["group_id", "measure"]:
            raise SystemExit(f"{path}: expected columns group_id measure")
        for row in reader:
            if row:
                groups[row[0]].append(row[1])
    return dict(groups)
