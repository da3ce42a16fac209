"""Measure vectors stored at build time (issue 30): the 数据 table's grouping reads them instead of running the
model over a query's measures, and groups exactly as encoding them does."""
from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import numpy as np

from indexer.search.figures import FiguresRequest, MeasureGrouper
from indexer.storage.vectors.encoder import cache_key

QUERIES = ("信访", "调解", "宣传", "培训", "法律顾问", "法治")


def test_the_table_groups_from_stored_vectors_as_it_would_from_the_model(searcher, encoder) -> None:
    with searcher.snapshot() as snap:
        model = cache_key(encoder.name, encoder.backend)
        measures = sorted({f.measure for rows in snap.figures(c.chunk_id for c in searcher.all_chunks())
                           .values() for f in rows if f.measure})
        stored = snap.measure_vectors(model, measures)
        assert sorted(stored) == measures  # every distinct measure of the generation has its vector
        np.testing.assert_allclose(np.stack([stored[m] for m in measures]), encoder.encode(measures), atol=1e-5)
        assert snap.measure_vectors(model + "#another-model", measures) == {}

        from_store = MeasureGrouper(lambda: encoder, searcher.config.figures.group_threshold)
        from_model = MeasureGrouper(lambda: encoder, searcher.config.figures.group_threshold)
        nothing_stored = SimpleNamespace()  # an engine that stores no measure vectors (Milvus, an old generation)
        for q in QUERIES:
            response = searcher.figures(FiguresRequest(q))
            counts = Counter(r.measure for r in response.rows if r.measure)
            frequent = [m for m, _ in sorted(counts.items(), key=lambda mn: (-mn[1], mn[0]))]
            groups = from_store.groups(snap, frequent)
            assert groups == from_model.groups(nothing_stored, frequent), q
            assert sorted(map(sorted, groups)) == sorted(sorted(g.measures) for g in response.groups), q
        assert from_store.encoded == 0  # the model never ran over a measure
        assert from_model.encoded == len({m for q in QUERIES for m in from_model_measures(searcher, q)})


def from_model_measures(searcher, q: str) -> set[str]:
    return {r.measure for r in searcher.figures(FiguresRequest(q)).rows if r.measure}
