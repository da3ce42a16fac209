"""The corpus's official terms the build collects for the bridge (build/terms.py) and their stored table
(storage/vectors/term_table.py); issue 27, direction 2. No model: vectors are made up."""
from __future__ import annotations

import numpy as np

from indexer.build.terms import TermSettings, collect_terms
from indexer.storage.vectors.term_table import load_term_table, write_term_table

PARAGRAPHS = [
    "我镇坚持和发展新时代“枫桥经验”，健全矛盾纠纷多元化解机制，推行“板凳调解工作法”。",
    "健全矛盾纠纷多元化解机制，全年调处纠纷120件。",
    "推进法治政府建设，落实重大行政决策程序。",
    "开展法治宣传，组织干部学法。",
] + ["全镇各项工作有序推进。"] * 40


def test_quoted_names_practices_and_domain_words_are_collected_once_each():
    terms = collect_terms(PARAGRAPHS)
    assert terms["枫桥经验"] == "quoted" and terms["板凳调解工作法"] == "quoted"
    # a named practice in two paragraphs, with the words before its last one; in one paragraph only it is not
    assert terms["多元化解机制"] == "practice" and terms["矛盾纠纷多元化解机制"] == "practice"
    assert terms["法治政府"] == "domain"  # lexicon/domain_dict.txt, present in the corpus
    assert "推进" not in terms and "调处" not in terms  # plain words are no terms unless salient words are asked for
    salient = collect_terms(PARAGRAPHS, TermSettings(salient=True))
    assert salient.get("调处") is None  # in one paragraph only
    assert "各项" not in salient  # in nearly every paragraph: says nothing
    assert list(terms) == list(collect_terms(list(PARAGRAPHS)))  # a stable order


def test_the_table_round_trips_and_its_nearest_terms_respect_the_floor(tmp_path):
    kinds = {"枫桥经验": "quoted", "法律明白人": "quoted", "多元化解机制": "practice"}
    vecs = np.eye(3, 4, dtype=np.float32)
    write_term_table(tmp_path / "terms.json", tmp_path / "term_vectors.npy", kinds, vecs)
    table = load_term_table(tmp_path / "terms.json", tmp_path / "term_vectors.npy")
    assert table is not None and table.terms == tuple(kinds) and table.kinds[2] == "practice"
    query = np.array([0.6, 0.0, 0.8, 0.0], dtype=np.float32)
    assert [t for t, _ in table.nearest(query, 0.5, 5)] == ["多元化解机制", "枫桥经验"]
    assert [t for t, _ in table.nearest(query, 0.7, 5)] == ["多元化解机制"]
    assert table.nearest(query, 0.0, 1) == [("多元化解机制", np.float32(0.8).item())]
    # a table whose vectors do not match its terms is no table (the search runs without the bridge)
    np.save(tmp_path / "term_vectors.npy", np.eye(2, 4, dtype=np.float16))
    assert load_term_table(tmp_path / "terms.json", tmp_path / "term_vectors.npy") is None
    assert load_term_table(tmp_path / "missing.json", tmp_path / "term_vectors.npy") is None
