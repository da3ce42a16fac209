"""Searcher.years on the Milvus engine (Milvus Lite): the same comparison as on the local generation it was synced
from (issue 30 point 3 on every engine: the verb uses only `Snapshot` calls both engines have)."""
from __future__ import annotations

import dataclasses
import time

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from indexer.engines.milvus import MilvusEngine  # noqa: E402
from indexer.engines.milvus.connection import connect  # noqa: E402
from indexer.engines.milvus.sync import sync  # noqa: E402
from indexer.search.searcher import Searcher  # noqa: E402
from indexer.search.years import YearsRequest  # noqa: E402
from indexer.storage.generations import GenerationStore  # noqa: E402


def _same(response) -> dict:
    data = response.to_dict()
    for volatile in ("took_ms", "generation"):
        data.pop(volatile)
    return data


def test_milvus_gives_the_local_engines_comparison(years_index, years_searcher, encoder, tmp_path) -> None:
    db = tmp_path / "years.db"
    client = connect(str(db))
    assert sync(client, GenerationStore(years_index.index_dir).current_path(), base="yrs").chunks_upserted > 0
    client.close()
    remote = Searcher.open(years_index, encoder, engine=MilvusEngine(str(db), collection="yrs"))
    try:
        milvus_place = remote.place("白云区")
        assert milvus_place == dataclasses.replace(years_searcher.place("白云区"), generation=milvus_place.generation)
        for request in (YearsRequest("西丽街道", (2024, 2025)), YearsRequest("新市街道", (2023, 2024), "法律顾问"),
                        YearsRequest("鹤龙街道", (2022, 2023, 2024))):
            local = years_searcher.years(request)
            t0 = time.perf_counter()
            milvus = remote.years(request)
            took = (time.perf_counter() - t0) * 1000
            assert _same(milvus) == _same(local), request
            assert took < 3000, f"{request}: {took:.0f} ms on Milvus Lite"
    finally:
        remote.close()
