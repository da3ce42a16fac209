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
# A case's stages too: 受理 (received) and 办结 (concluded) count different things; and any 增 / 减 (新增 / 减少).
CONTRASTS = (("前", "后"), ("上", "下"), ("增加", "减少"), ("收入", "支出"), ("进口", "出口"), ("开工", "竣工"),
             ("受理", "办结"), ("增", "减"))


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def cluster(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Average-linkage clusters of a symmetric similarity matrix, merged while the best mean link >= threshold.

    -inf entries (vetoed pairs) keep any two clusters holding them apart. The matrix of mean links is kept up to
    date by merge (only the merged cluster's row and column change): O(n^2) numpy work per merge for the argmax
    alone, the same merges as recomputing every mean each time."""
    n = len(similarity)
    members: list[list[int]] = [[i] for i in range(n)]
    # link[a, b]: sum of similarities between members of clusters a and b (mean = sum / (|a| * |b|))
    link = similarity.astype(np.float64).copy()
    np.fill_diagonal(link, -np.inf)
    sizes = np.ones(n)
    alive = np.ones(n, dtype=bool)
    mean = link / np.outer(sizes, sizes)
    while alive.sum() > 1:
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
        mean[x, :] = link[x, :] / (sizes[x] * sizes)
        mean[:, x] = link[:, x] / (sizes * sizes[x])
        mean[~alive, :] = -np.inf
        mean[:, ~alive] = -np.inf
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
    """Cosine + LEXICAL_WEIGHT * bigram Jaccard, -inf where `different` vetoes the pair: `different` and the
    Jaccard of every pair as array work over per-measure features (a Python loop over the ~45,000 pairs of 300
    measures took ~0.5 s, most of a 数据 table's first time), the same values as pair by pair."""
    n = len(measures)
    sim = (vectors @ vectors.T).astype(np.float64)
    if n < 2:
        return sim
    upper = np.triu_indices(n, 1)
    values = sim[upper] + LEXICAL_WEIGHT * _jaccard(measures)[upper]
    values[_vetoed(measures)[upper]] = -np.inf
    sim[upper] = values
    sim[upper[1], upper[0]] = values
    return sim


def _jaccard(measures: Sequence[str]) -> np.ndarray:
    """Bigram Jaccard of every pair: intersections as a sparse product of bigram indicator rows (integer
    counts; the division is in float64, as pair by pair)."""
    from scipy.sparse import csr_matrix

    grams = [_bigrams(m) for m in measures]
    column: dict[str, int] = {}
    cells = [(i, column.setdefault(gram, len(column))) for i, g in enumerate(grams) for gram in g]
    at = np.array(cells, dtype=np.int64)
    rows = csr_matrix((np.ones(len(cells), dtype=np.int64), (at[:, 0], at[:, 1])),
                      shape=(len(measures), len(column)))
    inter = (rows @ rows.T).toarray().astype(np.float64)
    sizes = np.array([len(g) for g in grams], dtype=np.float64)
    return inter / (sizes[:, None] + sizes[None, :] - inter)


def _vetoed(measures: Sequence[str]) -> np.ndarray:
    """`different` of every pair, from each measure's kind, numerals, negations and contrast words."""
    def codes(values: list) -> np.ndarray:
        ids: dict = {}
        return np.array([ids.setdefault(v, len(ids)) for v in values])

    def differ(col: np.ndarray) -> np.ndarray:
        return col[:, None] != col[None, :]

    veto = differ(codes([kind(m) for m in measures]))
    veto |= differ(codes([frozenset(c for c in m if c in _NUMERALS) for m in measures]))
    veto |= differ(codes([tuple(n in m for n in _NEGATIONS) for m in measures]))
    for x, y in CONTRASTS:
        hx = np.array([x in m for m in measures])
        hy = np.array([y in m for m in measures])
        one_way = hx[:, None] & hy[None, :] & ~hx[None, :] & ~hy[:, None]  # x only in a, y only in b
        veto |= one_way | one_way.T
    return veto


def pair_similarity(a: str, b: str, va: np.ndarray, vb: np.ndarray) -> float:
    """`similarity` of one pair: cosine + LEXICAL_WEIGHT * bigram Jaccard, -inf when `different` vetoes it."""
    if different(a, b):
        return float("-inf")
    ga, gb = _bigrams(a), _bigrams(b)
    return float(np.dot(va, vb)) + LEXICAL_WEIGHT * len(ga & gb) / len(ga | gb)


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
