"""Sentence-level matching (indexer/search/sentences.py): a query that is one sentence of a long paragraph
finds that paragraph by its best sentence, which the paragraph's own vector dilutes."""
from __future__ import annotations

import dataclasses

import pytest

from indexer.config import Config
from indexer.search.sentences import SentenceReranker, SentenceScorer, chunk_sentences, rerank_semantic

LONG = ("今年以来，全镇持续深化法治政府建设，认真落实各项工作部署。"
        "镇司法所联合派出所对辖区出租屋开展消防安全和治安隐患排查。"
        "各村（社区）法律顾问每月坐班一天，为群众提供免费法律咨询。"
        "全年共组织干部学法活动十二次，领导干部带头讲法四次。")
QUERY = "镇司法所联合派出所对辖区出租屋开展消防安全和治安隐患排查。"
OTHER = "全镇开展安全生产隐患排查整治，督促企业落实主体责任，整改各类隐患一百余处。"


def test_chunk_sentences_skips_fragments_and_keeps_short_texts_whole():
    assert chunk_sentences("一、" + LONG)[1] == QUERY
    assert chunk_sentences("一、") == ["一、"]


def test_best_sentence_beats_the_diluted_paragraph_and_reorders_the_list(encoder):
    scorer = SentenceScorer(encoder.encode)
    qvec = encoder.encode([QUERY])[0]
    long_vec, other_vec = encoder.encode([LONG, OTHER])
    best = scorer.best(qvec, {1: LONG, 2: OTHER})
    assert best[1] > 0.99 > float(long_vec @ qvec)  # the sentence itself, against the whole paragraph's cosine
    # Given the paragraph below a generically similar one, the best sentence puts it first.
    semantic = [(2, float(other_vec @ qvec)), (1, float(long_vec @ qvec)), (3, 0.1)]
    texts = lambda ids: {cid: {1: LONG, 2: OTHER}[cid] for cid in ids if cid in (1, 2)}
    reranked = rerank_semantic(semantic, qvec, texts, scorer, top=2, weight=0.5)
    assert [cid for cid, _ in reranked] == [1, 2, 3]
    assert rerank_semantic(semantic, qvec, texts, scorer, top=2, weight=0.0) == semantic


def test_an_unknown_stage_is_a_clear_error():
    with pytest.raises(ValueError, match="sentence_rerank"):
        SentenceReranker.from_config(dataclasses.replace(Config(), sentence_rerank="sentences"), lambda t: None)
    assert SentenceReranker.from_config(Config(), lambda t: None).scorer is None  # off by default: no cost
