"""Searcher.figures on the Milvus engine (Milvus Lite): the same rows as on the local generation it was synced from
(issue 30 point 4: every engine). Milvus stores no figures; its snapshot derives them from the chunk text."""
from __future__ import annotations

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from indexer.core.filters import Filters  # noqa: E402
from indexer.engines.milvus import MilvusEngine  # noqa: E402
from indexer.engines.milvus.connection import connect  # noqa: E402
from indexer.engines.milvus.sync import sync  # noqa: E402
from indexer.search.figures import FiguresRequest  # noqa: E402
from indexer.search.searcher import Searcher  # noqa: E402
from indexer.storage.generations import GenerationStore  # noqa: E402


def test_milvus_gives_the_local_engines_figures(sample_index, searcher, encoder, tmp_path) -> None:
    db = tmp_path / "figures.db"
    client = connect(str(db))
    assert sync(client, GenerationStore(sample_index.index_dir).current_path(), base="fig").chunks_upserted > 0
    client.close()
    remote = Searcher.open(sample_index, encoder, engine=MilvusEngine(str(db), collection="fig"))
    try:
        for request in (FiguresRequest("信访"), FiguresRequest("宣传", sort="value", descending=True),
                        FiguresRequest("调解", Filters(place=("大铭乡",)))):
            local, milvus = searcher.figures(request), remote.figures(request)
            assert local.rows, request
            assert milvus.rows == local.rows and milvus.groups == local.groups
            assert milvus.paragraphs == local.paragraphs
    finally:
        remote.close()
