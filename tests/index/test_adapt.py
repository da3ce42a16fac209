"""`reportsearch adapt` (issue 27 direction 4): the encoder adapted to the indexed corpus is stored with the
index, recorded as the generation's model, used for indexing and queries, and never mixed with the base
model's vectors — a missing adapted model is refused, and going back re-embeds with the base model."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from indexer.operations.adapting import adapt, unadapt
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest
from indexer.storage.vectors import Encoder
from indexer.storage.vectors.cache import EmbeddingCache, embedding_cache_path
from indexer.storage.vectors.models import ModelMissing, models_dir

from tests.conftest import SAMPLE_CORPUS

FILES = ("000_285c95f969a2e408.txt", "004_080d5c8e485e4c1a.txt")


def test_adapted_encoder_is_stored_recorded_used_and_never_mixed(build_index, encoder):
    config, report = build_index({name: (SAMPLE_CORPUS / name).read_text(encoding="utf-8") for name in FILES},
                                 **{"embedding.adapt_max_pairs": 12})
    assert report.exit_code == 0, report.summary()

    done = adapt(config, progress=False)
    name = done.adaptation.model
    summary = done.summary()
    assert done.exit_code == 0, summary
    assert re.match(r"adapted m3e-small to this corpus: (\d+) pairs \(heading \d+, lead \d+\) from 23 paragraphs",
                    summary) and f"models/{name}" in summary, summary
    assert 2 <= done.adaptation.pairs <= 12  # the setting caps them
    assert "non-commercial" in summary  # the adapted model inherits m3e's licence, and says so
    folder = models_dir(config.index_dir) / name
    assert name.startswith("adapted-") and (folder / "config.json").is_file()
    assert "non-commercial" in (folder / "LICENCE.txt").read_text(encoding="utf-8")
    assert json.loads((models_dir(config.index_dir) / "ACTIVE.json").read_text())["model"] == name
    # every chunk re-embedded, and cached under the adapted model's own key, not the base model's
    assert done.run.report.embedded == done.run.report.chunks > 0
    assert EmbeddingCache(embedding_cache_path(config), name).count() >= done.run.report.chunks

    searcher = Searcher.open(config, encoder)  # handed the base encoder, as the web app's fixtures do
    try:
        assert searcher.health()["model"] == name and searcher.encoder.name == name
        adapted = Encoder.from_config(config, name)
        query = "领导干部带头学法"
        assert np.allclose(searcher.embed_query(query), adapted.encode_query(query), atol=1e-5)
        assert not np.allclose(adapted.encode_query(query), encoder.encode_query(query), atol=1e-4)
        hits = searcher.search(SearchRequest(query=query, mode="semantic")).hits
        assert hits and all(h.semantic_score is not None for h in hits)

        # an incremental run keeps the adapted model: nothing re-embedded
        _, again = build_index()
        assert again.embedded == 0 and searcher.health()["model"] == name

        # back to the base model: the open searcher switches its encoder with the published snapshot
        back = unadapt(config, progress=False)
        assert back.exit_code == 0 and back.run.report.embedded == 0  # the base vectors were cached
        searcher.search(SearchRequest(query=query, mode="semantic"))
        assert searcher.health()["model"] == "m3e-small" and searcher.encoder.name == "m3e-small"
    finally:
        searcher.close()

    # an index whose adapted model's files are gone cannot be queried with another model: refused, named
    again = adapt(config, progress=False)  # seeded; its weights (and name) may still differ in the last bits
    assert again.exit_code == 0, again.summary()
    name = again.adaptation.model
    folder = models_dir(config.index_dir) / name
    folder.rename(folder.with_name("moved-away"))
    with pytest.raises(ModelMissing, match=rf"{name}.*missing.*reportsearch adapt"):
        Searcher.open(config, encoder)
    # ... and the next indexing run falls back to the base model, re-embedding from its cache
    _, rebuilt = build_index()
    assert rebuilt.exit_code == 0 and rebuilt.embedded == 0
    assert Searcher.open(config, encoder).health()["model"] == "m3e-small"
