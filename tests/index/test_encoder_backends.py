"""The optional int8 encoder backend: a whole index built and queried with it still finds what users ask
for, and its vectors never mix with the full-precision ones in the shared embedding cache."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from indexer.build.index import Index
from indexer.core.config import Config, EmbeddingSettings
from indexer.storage.generations import GenerationStore
from indexer.storage.layout import GenerationLayout
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest
from indexer.storage.vectors import EmbeddingCache, Encoder, cache_key
from indexer.storage.vectors.sentence_vectors import SentenceVectors

from conftest import SAMPLE_CORPUS

ELDER_FRAUD = "防养老诈骗工作自开展以来"  # 张茅乡's paragraph, as in test_search_sample


@pytest.fixture(scope="module")
def int8_index(tmp_path_factory, embedding_cache) -> Config:
    config = Config(corpus_dir=SAMPLE_CORPUS, index_dir=tmp_path_factory.mktemp("int8-index"),
                    embedding=EmbeddingSettings(cache=embedding_cache, backend="torch-int8"))
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
    with sqlite3.connect(layout.catalog) as db:  # the figures' measures (the 数据 table groups them by vector)
        measures = db.execute("SELECT COUNT(*) FROM measure_vectors WHERE model = ?",
                              (cache_key("m3e-small", "torch-int8"),)).fetchone()[0]
    int8 = EmbeddingCache(embedding_cache, cache_key("m3e-small", "torch-int8"))
    try:
        # every chunk, every sentence stored for sentence matching and every measure, embedded under the int8 key
        assert measures > 0
        assert 0.9 * (chunks + sentences + measures) <= int8.count() <= chunks + sentences + measures
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


QUERIES = ["乡镇如何化解信访积案", "老年人被骗了怎么办", "信访", "推进法治政府建设，严格规范公正文明执法"]


def test_bfloat16_queries_are_the_float32_vectors_to_five_decimals(encoder: Encoder) -> None:
    # forced: on a CPU without native bfloat16 it is emulated (slower), but must still be right
    fast = Encoder("m3e-small", query_precision="bfloat16")
    assert fast.query_dtype == "bfloat16"
    full = encoder.encode(QUERIES)
    for text, ref in zip(QUERIES, full):
        vec = fast.encode_query(text)
        assert vec.dtype == np.float32 and vec.shape == (512,)
        assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-5
        assert float(vec @ ref) > 0.9999, text


def test_stored_vectors_never_depend_on_the_query_precision(encoder: Encoder) -> None:
    # encode() is what builds and the embedding cache use: float32 for one text as for many
    fast = Encoder("m3e-small", query_precision="bfloat16")
    fast.encode_query(QUERIES[0])  # the bfloat16 model is loaded beside the float32 one
    assert np.array_equal(fast.encode(QUERIES[:1]), encoder.encode(QUERIES[:1]))
    assert np.array_equal(fast.encode(QUERIES), encoder.encode(QUERIES))


def test_float32_queries_and_the_int8_backend_keep_their_own_precision(encoder: Encoder) -> None:
    exact = Encoder("m3e-small", query_precision="float32")
    assert exact.query_dtype == "float32"
    assert np.allclose(exact.encode_query(QUERIES[0]), encoder.encode(QUERIES[:1])[0], atol=1e-6)
    assert Encoder("m3e-small", backend="torch-int8", query_precision="bfloat16").query_dtype == "float32"


def test_unknown_query_precision_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="query_precision"):
        Encoder("m3e-small", query_precision="fp8")
    with pytest.raises(ValueError, match="query_precision"):
        Searcher.open(Config(embedding=EmbeddingSettings(query_precision="half")))
