"""The evaluation kit: metrics, both dataset formats, the cached index, TREC output, `reportsearch eval`."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from indexer.cli import main
from indexer.core.config import Config
from indexer.evaluation.datasets import load_dataset
from indexer.evaluation.indexes import prepare_index
from indexer.evaluation.metrics import mrr, ndcg, recall
from indexer.evaluation.run import evaluate, write_trec
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest

from conftest import EVAL_SET


# -- metrics -------------------------------------------------------------------------------------

def test_ndcg_credits_each_unit_once_at_its_first_rank():
    judged = {"a": 2, "b": 1}
    perfect = [{"a": 2}, {"b": 1}]
    assert ndcg(perfect, judged) == pytest.approx(1.0)
    # A second chunk containing the same judged passage earns nothing: the unit is counted once.
    repeated = [{"a": 2}, {"a": 2}, {"b": 1}]
    expected = (2 + 1 / math.log2(4)) / (2 + 1 / math.log2(3))
    assert ndcg(repeated, judged) == pytest.approx(expected)
    assert ndcg([{}, {}], judged) == 0.0


def test_mrr_and_recall_cut_off_at_k():
    ranking = [{}] * 10 + [{"a": 1}]
    assert mrr(ranking, 10) == 0.0
    assert mrr([{}, {"a": 1}], 10) == 0.5
    assert recall(ranking, {"a": 1, "b": 2}, 10) == 0.0
    assert recall(ranking, {"a": 1, "b": 2}, 100) == 0.5


# -- passage-level format (corpora/eval) ------------------------------------------------------------

def test_passage_level_set_loads_with_kinds_and_its_corpus():
    ds = load_dataset(EVAL_SET)
    assert ds.kind == "passage"
    assert ds.corpus_dir is not None and ds.corpus_dir.name == "fazhi-2023"
    counts = {k: sum(q.kind == k for q in ds.queries) for k in ds.kinds()}
    assert counts == {"practice": 12, "keyword": 10, "wording": 8}
    assert sum(len(q.judgments) for q in ds.queries) == 116


def test_passage_with_source_spaces_matches_the_whitespace_normalised_chunk(searcher):
    ds = load_dataset(EVAL_SET)
    p08 = next(q for q in ds.queries if q.qid == "P08")
    paths = {d.doc_id: d.path for d in searcher.documents()}
    chunks = [(paths[c.doc_id], c.text) for c in searcher.all_chunks()]
    # The judged line "大铭乡现有行政执法人员 3 名及法治审核人员 1 名" keeps the source's spaces.
    spaced = next(j for j in p08.judgments if "执法人员" in j.unit and " " in j.unit)
    assert any(spaced.unit in q.units_of(path, text) for path, text in chunks for q in [p08])


# -- id-level format (STARD-like), built into a cached index ------------------------------------------

LONG_ARTICLE = "。".join(f"第{i}项规定的情形下，行政机关应当依法告知当事人享有陈述申辩和要求听证的权利" for i in range(12))


@pytest.fixture
def tiny_id_set(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    root.mkdir()
    corpus = [
        {"id": "D1", "title": "消费者权益保护法第二十四条", "text": "经营者提供的商品不符合质量要求的，消费者可以依照国家规定退货。"},
        {"id": "D2", "title": "行政处罚法第四十四条", "text": LONG_ARTICLE},  # split into several chunks
        {"id": "D3", "title": "道路交通安全法第七十六条", "text": "机动车发生交通事故造成人身伤亡的，由保险公司在责任限额范围内予以赔偿。"},
        {"id": "D4", "title": "民法典第一千零七十九条", "text": "夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。"},
    ]
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in corpus) + "\n",
                                       encoding="utf-8")
    queries = [{"id": "q1", "text": "买到质量有问题的东西能退吗"}, {"id": "q2", "text": "行政处罚听证权利"},
               {"id": "q3", "text": "撞车受伤谁来赔"}]
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in queries) + "\n",
                                        encoding="utf-8")
    (root / "qrels.tsv").write_text("q1\tD1\t1\nq2\tD2\t1\nq3\tD3\t1\nq3\tD3\t1\n", encoding="utf-8")
    return root


def test_id_level_set_is_indexed_once_and_scored_per_passage(tiny_id_set, tmp_path, encoder, embedding_cache):
    ds = load_dataset(tiny_id_set)
    assert ds.kind == "id" and [len(q.judgments) for q in ds.queries] == [1, 1, 1]  # duplicate qrels line once
    base = Config().with_overrides({"embedding.cache": embedding_cache, "analysis.max_chunk_chars": 120})
    config = prepare_index(ds, base, encoder, bench_dir=tmp_path / "bench")
    searcher = Searcher.open(config, encoder)
    try:
        result = evaluate(searcher, ds, ["keyword", "semantic", "hybrid"])
    finally:
        searcher.close()
    for mode, rows in result.results.items():
        keys = [[u.key for u in r.ranking] for r in rows]
        assert all(len(k) == len(set(k)) for k in keys), f"{mode}: a passage ranked twice"
        assert set(keys[1]) <= {"D1", "D2", "D3", "D4"}
    q2 = next(r for r in result.results["keyword"] if r.qid == "q2")
    assert q2.ranking[0].key == "D2" and q2.metrics["ndcg@10"] == pytest.approx(1.0)
    assert result.summary("hybrid").values["recall@100"] == pytest.approx(1.0)

    # The second run finds the cached index instead of rebuilding it.
    generation = (config.index_dir / "CURRENT").read_text()
    again = prepare_index(ds, base, encoder, bench_dir=tmp_path / "bench")
    assert again.index_dir == config.index_dir and (again.index_dir / "CURRENT").read_text() == generation
    # Other content settings get their own index.
    other = prepare_index(ds, base.with_overrides({"analysis.max_chunk_chars": 200}), encoder,
                          bench_dir=tmp_path / "bench")
    assert other.index_dir != config.index_dir

    paths = write_trec(result, str(tmp_path / "runs" / "tiny"))
    lines = paths[0].read_text().splitlines()
    qid, q0, docno, rank, score, tag = lines[0].split()
    assert q0 == "Q0" and rank == "1" and docno.startswith("D") and tag == "reportsearch-keyword"


def test_id_level_passages_are_indexed_as_a_users_folder_of_files(tiny_id_set, tmp_path, encoder, embedding_cache):
    """`reportsearch eval` on corpus.jsonl writes each passage as a file (title, blank line, article) and indexes
    that folder through the whole pipeline: the same figures as a folder a user wrote, titles read from the files."""
    ds = load_dataset(tiny_id_set)
    base = Config().with_overrides({"embedding.cache": embedding_cache, "analysis.max_chunk_chars": 120})
    config = prepare_index(ds, base, encoder, bench_dir=tmp_path / "bench")
    written = config.corpus_dir / "D1.txt"
    assert written.read_text(encoding="utf-8") == (
        "消费者权益保护法第二十四条\n\n经营者提供的商品不符合质量要求的，消费者可以依照国家规定退货。\n")

    user_folder = tmp_path / "statutes"  # what a user has: one file per article, written by hand
    user_folder.mkdir()
    for line in (tiny_id_set / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        (user_folder / f"{rec['id']}.txt").write_text(f"{rec['title']}\n\n{rec['text']}\n", encoding="utf-8")
    user_config = prepare_index(load_dataset(tiny_id_set, user_folder), base, encoder, bench_dir=tmp_path / "bench")
    assert user_config.index_dir != config.index_dir and user_config.corpus_dir == user_folder

    tables = []
    for cfg in (config, user_config):
        searcher = Searcher.open(cfg, encoder)
        try:
            tables.append(evaluate(searcher, ds, ["keyword", "semantic", "hybrid"]).table())
            hit = searcher.search(SearchRequest("消费者 退货", mode="keyword")).hits[0]
        finally:
            searcher.close()
        assert (hit.path, hit.title) == ("D1.txt", "消费者权益保护法第二十四条")
        assert hit.text == "经营者提供的商品不符合质量要求的，消费者可以依照国家规定退货。"  # the title is not glued in
    assert tables[0] == tables[1]


def test_eval_command_prints_every_mode_and_writes_json(tiny_id_set, tmp_path, capsys, monkeypatch, embedding_cache):
    monkeypatch.setenv("REPORTSEARCH_EMBEDDING_CACHE", str(embedding_cache))
    out_json = tmp_path / "m.json"
    code = main(["eval", str(tiny_id_set), "--bench-dir", str(tmp_path / "bench"), "--json", str(out_json),
                 "--worst", "1", "--queries", "q1,q3", "-q"])
    assert code == 0
    out = capsys.readouterr().out
    for mode in ("keyword", "semantic", "hybrid"):
        assert f"\n{mode} " in out
    assert "nDCG@10" in out and "R@100" in out and "worst 1 (hybrid)" in out
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert set(data["metrics"]) == {"keyword", "semantic", "hybrid"}
    assert [q["qid"] for q in data["queries"]["hybrid"]] == ["q1", "q3"]


def test_eval_command_rejects_unknown_mode_and_missing_set(tmp_path, capsys):
    assert main(["eval", str(EVAL_SET), "--modes", "hybrid,fuzzy"]) == 2
    assert "fuzzy" in capsys.readouterr().err
    assert main(["eval", str(tmp_path / "nothing")]) == 2


# -- the naive baseline (issue 12, direction 0) -------------------------------------------------------

def test_baseline_ranks_paragraphs_with_plain_bm25_and_bare_text_vectors(tiny_id_set, tmp_path, capsys, monkeypatch,
                                                                         embedding_cache):
    from indexer.evaluation.baseline import BM25, rrf

    bm25 = BM25(["行政处罚听证权利的告知", "离婚诉讼", "听证"])
    hits = bm25.search("行政处罚听证", 10)
    assert [i for i, _ in hits] == [0, 2]  # paragraph 1 shares no word
    assert rrf([[(1, 9.0), (2, 1.0)], [(2, 0.9), (3, 0.1)]])[0][0] == 2  # on both lists
    monkeypatch.setenv("REPORTSEARCH_EMBEDDING_CACHE", str(embedding_cache))
    out_json = tmp_path / "b.json"
    assert main(["eval", str(tiny_id_set), "--baseline", "--bench-dir", str(tmp_path / "bench"), "--json",
                 str(out_json), "--worst", "0", "-q"]) == 0
    out = capsys.readouterr().out
    assert "naive baseline" in out and "\nhybrid " in out
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["baseline"] is True and data["metrics"]["hybrid"]["all"]["recall@100"] == pytest.approx(1.0)
    assert not (tmp_path / "bench").exists() or not any((tmp_path / "bench").glob("tiny-*"))  # builds no index


# -- what the embedding model reads (issue 12: embed_with_context) ------------------------------------

def test_a_report_title_that_only_names_place_year_and_kind_is_not_embedded():
    from indexer.build.embedding_input import embedding_input, informative_title
    from indexer.core.document import DocumentMeta

    report = DocumentMeta(title="丰都县栗子乡人民政府2025年法治政府建设情况报告", place="栗子乡", region="丰都县", year=2025)
    news = DocumentMeta(title="老城镇开展信访积案“百日集中化解”活动", place="老城镇")
    statute = DocumentMeta(title="中华人民共和国民法典第一千零六十四条")
    assert informative_title(report) == "" and informative_title(news) and informative_title(statute)
    text = "一是健全信访积案化解机制。"
    assert embedding_input(report, ("一、主要做法",), text, "informative-title") == text
    assert embedding_input(news, ("一、主要做法",), text, "informative-title") == f"{news.title}\n{text}"
    assert embedding_input(report, ("一、主要做法",), text, "headings") == f"一、主要做法\n{text}"
    assert embedding_input(report, ("一、主要做法",), text, True).startswith(report.title + " › 一、主要做法")
    assert embedding_input(report, ("一、主要做法",), text, False) == text


def test_what_is_embedded_is_part_of_the_evaluation_index_key():
    from indexer.evaluation.indexes import settings_key

    keys = {settings_key(Config().with_overrides({"embedding.context": c}))
            for c in ("informative-title", "title+headings", "headings")}
    keys.add(settings_key(Config().with_overrides({"embedding.with_context": False})))
    assert len(keys) == 4
    with pytest.raises(ValueError, match="embed_context"):
        settings_key(Config().with_overrides({"embedding.context": "everything"}))
