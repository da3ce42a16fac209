"""When two figures of a place's years count the same thing (search/years.py): the words around a measure that do
not change what is counted are set aside, and opposites are never one measure, however alike their vectors."""
from __future__ import annotations

import numpy as np

from indexer.search.years import _meaning_alike, measure_core


def test_the_core_of_a_measure_sets_aside_place_year_and_achieving_words() -> None:
    places = ("营仔镇",)
    assert measure_core("实现生产总值", places) == measure_core("营仔镇镇内生产总值", places) == "生产总值"
    assert measure_core("实现生产总值增长", places) == measure_core("营仔镇镇内生产总值同比增长", places)
    assert measure_core("全年累计受理信访案件") == "受理信访案件"
    assert measure_core("第一产业产值") != measure_core("第二产业产值")
    assert measure_core("实现") == "实现"  # never emptied


def test_opposites_are_never_the_same_measure_even_with_one_vector() -> None:
    same = np.ones(4, dtype=np.float32) / 2  # the embedding cannot tell them apart: only the veto can
    for a, b in (("新增就业岗位", "减少就业岗位"), ("增加耕地面积", "减少耕地面积"), ("受理行政复议案件", "办结行政复议案件"),
                 ("第一产业产值", "第二产业产值"), ("群众满意", "群众不满意")):
        assert _meaning_alike(a, b, {a: same, b: same}, 0.9) == 0.0, (a, b)
    a, b = "完成率", "实现率"  # a core of one character says nothing of what is counted
    assert _meaning_alike(a, b, {a: same, b: -same}, 0.9) == 0.0
    a, b = "检查主体", "抽查主体"
    assert _meaning_alike(a, b, {a: same, b: same}, 0.9) > 0.9


def test_the_grouping_similarity_of_all_pairs_at_once_is_that_of_each_pair() -> None:
    """grouping.similarity (array work, the 数据 table) against pair_similarity (one pair, 历年对比), on the judged
    measures of tests/data/figures plus opposites, with random unit vectors."""
    from pathlib import Path

    from indexer.pipeline.figures.grouping import different, pair_similarity, read_groups, similarity

    root = Path(__file__).resolve().parents[2]
    measures = [m for ms in read_groups(root / "tests/data/figures/measure_groups.tsv").values() for m in ms]
    measures += ["受理案件", "办结案件", "新增岗位", "减少岗位", "群众满意", "群众不满意", "率", "A"]
    vectors = np.random.default_rng(7).normal(size=(len(measures), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    sim = similarity(measures, vectors)
    assert np.array_equal(sim, sim.T)
    vetoed = 0
    for i, a in enumerate(measures):
        for j, b in enumerate(measures[:i]):
            expected = pair_similarity(a, b, vectors[i], vectors[j])
            if different(a, b):
                vetoed += 1
                assert sim[i, j] == -np.inf, (a, b)
            else:
                assert abs(sim[i, j] - expected) < 1e-6, (a, b)
    assert vetoed > 100  # the kinds, numerals, negations and contrasts all occur


def _cluster_recomputing_every_mean(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """grouping.cluster as it was before it kept the mean links up to date (a33dfaf): the reference."""
    n = len(similarity)
    members: list[list[int]] = [[i] for i in range(n)]
    link = similarity.astype(np.float64).copy()
    np.fill_diagonal(link, -np.inf)
    sizes, alive = np.ones(n), np.ones(n, dtype=bool)
    while alive.sum() > 1:
        mean = link / np.outer(sizes, sizes)
        mean[~alive, :] = -np.inf
        mean[:, ~alive] = -np.inf
        x, y = np.unravel_index(int(np.argmax(mean)), mean.shape)
        if not mean[x, y] >= threshold:
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


def test_clusters_are_those_of_recomputing_every_mean_link() -> None:
    from indexer.pipeline.figures.grouping import cluster

    rng = np.random.default_rng(3)
    for n, veto in ((40, 0.0), (120, 0.1), (200, 0.3)):
        vectors = rng.normal(size=(n, 6))
        vectors[n // 2:] = vectors[: n - n // 2] + rng.normal(scale=0.2, size=(n - n // 2, 6))  # near twins
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        sim = vectors @ vectors.T
        vetoed = np.triu(rng.random((n, n)) < veto, 1)
        sim[vetoed | vetoed.T] = -np.inf
        for threshold in (0.5, 0.8, 0.9):
            got = cluster(sim, threshold)
            assert got == _cluster_recomputing_every_mean(sim, threshold)
            assert len(got) < n  # some merged
