"""The optional int8 encoder backend: a whole index built and queried with it still finds what users ask
for, and its vectors never mix with the full-precision ones in the shared embedding cache."""
from __future__ import annotations

import numpy as np
import pytest

from indexer.build import Index
from indexer.config import Config
from indexer.generations import GenerationStore
from indexer.layout import GenerationLayout
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest
from indexer.vectors import EmbeddingCache, Encoder, cache_key
from indexer.vectors.sentence_vectors import SentenceVectors

from conftest import SAMPLE_CORPUS

ELDER_FRAUD = "防养老诈骗工作自开展以来"  # 张茅乡's paragraph, as in test_search_sample


@pytest.fixture(scope="module")
def int8_index(tmp_path_factory, embedding_cache) -> Config:
    config = Config(corpus_dir=SAMPLE_CORPUS, index_dir=tmp_path_factory.mktemp("int8-index"),
                    embedding_cache=embedding_cache, encoder_backend="torch-int8")
    report = Index(config).build(progress=False)
    assert report.exit_code == 0, report.summary()
    return config


def test_int8_vectors_are_close_to_full_precision(encoder: Encoder) -> None:
    texts = ["乡镇如何化解信访积案", "老年人被骗了怎么办", "推进法治政府建设，严格规范公正文明执法"]
    full = encoder.encode(texts)
    small = Encoder("m3e-small", backend="torch-int8").encode(texts)
    assert np.allclose(np.linalg.norm(small, axis=1), 1.0, atol=1e-4)
    assert (np.sum(full * small, axis=1) > 0.95).all()


def test_index_built_and_queried_with_int8_finds_the_paraphrased_paragraph(int8_index: Config) -> None:
    searcher = Searcher.open(int8_index)
    try:
        assert searcher.encoder.backend == "torch-int8"
        r = searcher.search(SearchRequest(query="老年人被骗了怎么办", mode="semantic", size=3))
        assert any(ELDER_FRAUD in h.text for h in r.hits), [h.text[:40] for h in r.hits]
    finally:
        searcher.close()


def test_int8_vectors_are_cached_under_their_own_key(int8_index: Config, embedding_cache) -> None:
    searcher = Searcher.open(int8_index)
    chunks = searcher.health()["chunks"]
    searcher.close()
    store = GenerationStore(int8_index.index_dir)
    layout = GenerationLayout(store.gen_root / store.current_name())
    sentences = len(SentenceVectors.load(layout.sentence_vectors, layout.sentence_spans))
    int8 = EmbeddingCache(embedding_cache, cache_key("m3e-small", "torch-int8"))
    try:
        # every chunk, and every sentence stored for sentence matching, embedded under the int8 key
        assert 0.9 * (chunks + sentences) <= int8.count() <= chunks + sentences
    finally:
        int8.close()
    assert cache_key("m3e-small") == "m3e-small" != cache_key("m3e-small", "torch-int8")


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError):
        Encoder("m3e-small", backend="cuda-fp4")


def test_device_setting_is_checked_and_auto_falls_back_to_the_cpu():
    with pytest.raises(ValueError, match="device"):
        Encoder("m3e-small", device="gpu")
    import torch

    enc = Encoder("m3e-small", device="auto")
    assert enc.encode(["信访积案化解"]).shape == (1, 512)
    assert str(enc.model.device).startswith("cuda" if torch.cuda.is_available() else "cpu")
