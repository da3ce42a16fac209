"""Sentence-level matching (indexer/search/sentences.py, vectors/sentence_vectors.py): a query that is one
sentence of a long paragraph finds that paragraph by its best sentence, which the paragraph's own vector
dilutes; the build stores every chunk's sentence vectors so a query encodes nothing but itself."""
from __future__ import annotations


import numpy as np
import pytest

from indexer.core.config import Config
from indexer.storage.layout import GenerationLayout
from indexer.storage.generations import GenerationStore
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest
from indexer.search.sentences import EncodedSentences, SentenceReranker, rerank_semantic
from indexer.storage.vectors.sentence_vectors import SentenceVectors, chunk_sentences

LONG = ("今年以来，全镇持续深化法治政府建设，认真落实各项工作部署。"
        "镇司法所联合派出所对辖区出租屋开展消防安全和治安隐患排查。"
        "各村（社区）法律顾问每月坐班一天，为群众提供免费法律咨询。"
        "全年共组织干部学法活动十二次，领导干部带头讲法四次。")
QUERY = "镇司法所联合派出所对辖区出租屋开展消防安全和治安隐患排查。"
OTHER = "全镇开展安全生产隐患排查整治，督促企业落实主体责任，整改各类隐患一百余处。"


def test_chunk_sentences_skips_fragments_and_single_sentence_chunks():
    assert chunk_sentences("一、" + LONG)[1] == QUERY and len(chunk_sentences(LONG)) == 4
    assert chunk_sentences("一、") == [] and chunk_sentences(QUERY) == []  # the chunk's own vector stands for it


def test_best_sentence_beats_the_diluted_paragraph_and_reorders_the_list(encoder):
    sentences = EncodedSentences(encoder.encode)
    qvec = encoder.encode([QUERY])[0]
    long_vec, other_vec = encoder.encode([LONG, OTHER])
    per = sentences.vectors({1: LONG, 2: OTHER})
    assert float(np.max(per[1] @ qvec)) > 0.99 > float(long_vec @ qvec)  # the sentence itself vs the paragraph
    # Given the paragraph below a generically similar one, the best sentence puts it first.
    semantic = [(2, float(other_vec @ qvec)), (1, float(long_vec @ qvec)), (3, 0.1)]
    vectors = lambda ids: {cid: per[cid] for cid in ids if cid in per}
    reranked = rerank_semantic(semantic, qvec, vectors, top=2, weight=0.5)
    assert [cid for cid, _ in reranked] == [1, 2, 3]
    assert rerank_semantic(semantic, qvec, vectors, top=2, weight=0.0) == semantic


def test_an_unknown_stage_is_a_clear_error():
    with pytest.raises(ValueError, match="sentence_rerank"):
        SentenceReranker.from_config(Config().with_overrides({"sentences.rerank": "sentences"}), lambda t: None)
    with pytest.raises(ValueError, match="sentence_weight"):
        SentenceReranker.from_config(Config().with_overrides({"sentences.weight": 1.5}), lambda t: None)
    off = SentenceReranker.from_config(Config().with_overrides({"sentences.rerank": "off"}), lambda t: None)
    assert off.fallback is None and not off.active  # off: no cache opened, nothing re-scored


def _published(config: Config) -> GenerationLayout:
    store = GenerationStore(config.index_dir)
    return GenerationLayout(store.gen_root / store.current_name())


def test_the_build_stores_sentence_vectors_and_the_search_uses_them(build_index, encoder):
    """A wording query quoting one sentence of a long paragraph ranks that paragraph first, served from
    the stored vectors (the fallback encoder is never called); turning the setting off publishes a
    generation without them, and on again brings them back from the cache without re-reading files."""
    filler = "镇里持续推进法治政府建设，各项工作有序开展，群众满意度稳步提升。"
    config, report = build_index({
        "甲镇2023年法治政府建设年度报告.txt": "甲镇2023年法治政府建设年度报告\n一、主要做法\n" + LONG + "\n",
        "乙镇2023年法治政府建设年度报告.txt": "乙镇2023年法治政府建设年度报告\n一、主要做法\n" + OTHER + filler + "\n",
    }, sentence_rerank="semantic")
    assert report.exit_code == 0, report.summary()
    layout = _published(config)
    stored = SentenceVectors.load(layout.sentence_vectors, layout.sentence_spans)
    assert stored is not None and len(stored) == report.sentences >= 5 and stored.dim == encoder.dim
    assert "sentence vectors" in report.summary()

    searcher = Searcher.open(config, encoder)
    try:  # each chunk's rows are its own sentences, in order (the build embeds them shortest first)
        rows = {r.chunk_id: chunk_sentences(r.text) for r in searcher.all_chunks()}
        for cid, vecs in stored.of([c for c, sents in rows.items() if sents]).items():
            cosines = np.sum(np.asarray(vecs, dtype=np.float32) * encoder.encode(rows[cid]), axis=1)
            assert len(vecs) == len(rows[cid]) and cosines.min() > 0.99, cid
    finally:
        searcher.close()

    calls: list[list[str]] = []

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return encoder.encode(texts)

    searcher = Searcher.open(config, encoder)
    try:
        searcher.sentences.fallback._encode = counting
        hits = searcher.search(SearchRequest("派出所和司法所一起去出租屋查消防和治安隐患", mode="semantic")).hits
        assert hits and "出租屋" in hits[0].text
    finally:
        searcher.close()
    assert calls == []  # every candidate's sentences came from the generation

    config, report = build_index(sentence_rerank="off")
    assert report.exit_code == 0 and not _published(config).sentence_vectors.exists()
    config, report = build_index(sentence_rerank="semantic")
    assert report.exit_code == 0 and report.sentences_embedded == 0 and report.embedded == 0
    assert _published(config).sentence_vectors.exists()


def test_a_hit_found_by_meaning_marks_the_sentence_the_model_matched(build_index, encoder):
    """The blue mark ("按意思匹配的句子") is the sentence closest in meaning, from the stored vectors, not the
    one sharing most characters: this paraphrase of the legal-adviser sentence shares no word with the
    paragraph and more single characters with its first sentence (持, 以, 真 …)."""
    query = "律师驻点，真心替老百姓答疑解惑，分文不取，持之以恒"
    adviser = "各村（社区）法律顾问每月坐班一天，为群众提供免费法律咨询。"
    config, report = build_index({"甲镇2023年法治政府建设年度报告.txt": "甲镇2023年法治政府建设年度报告\n一、主要做法\n" + LONG + "\n"},
                                 sentence_rerank="semantic")
    assert report.exit_code == 0, report.summary()
    searcher = Searcher.open(config, encoder)
    try:
        for mode in ("hybrid", "semantic"):
            hit = next(h for h in searcher.search(SearchRequest(query, mode=mode)).hits if adviser in h.text)
            assert hit.span_kind == "semantic" and [hit.text[a:b] for a, b in hit.spans] == [adviser], mode
    finally:
        searcher.close()


def test_damaged_sentence_vectors_still_serve_and_the_next_run_repairs_them(build_index, encoder, caplog):
    """Derived data only: a truncated sentence file never stops a search (the candidates' sentences are
    encoded instead, with a warning naming the file); status names the damage; the next run rewrites it."""
    from indexer.build.index import Index

    config, report = build_index({"甲镇2023年法治政府建设年度报告.txt": "甲镇2023年法治政府建设年度报告\n一、主要做法\n" + LONG + "\n"},
                                 sentence_rerank="semantic")
    assert report.exit_code == 0, report.summary()
    layout = _published(config)
    layout.sentence_vectors.write_bytes(layout.sentence_vectors.read_bytes()[:100])
    searcher = Searcher.open(config, encoder)
    try:
        hits = searcher.search(SearchRequest("派出所和司法所一起去出租屋查消防和治安隐患", mode="hybrid")).hits
        assert hits and "出租屋" in hits[0].text
    finally:
        searcher.close()
    assert any("sentence_vectors.npy" in r.getMessage() for r in caplog.records)
    status = Index(config, encoder).status()
    assert any("sentence_vectors.npy" in line for line in status["damaged"])
    config, report = build_index(sentence_rerank="semantic")
    assert report.exit_code == 0 and any("vectors" in r for r in report.repairs), report.summary()
    repaired = _published(config)
    assert SentenceVectors.load(repaired.sentence_vectors, repaired.sentence_spans) is not None
    assert "damaged" not in Index(config, encoder).status()
