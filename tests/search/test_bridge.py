"""The bridge learned from the corpus (issue 27, direction 2): a term looked up also finds the corpus's own
official terms nearest to it in meaning, stored by the build with the generation; hits found only through
one are labelled with it, like the lexicon's official terms."""
from __future__ import annotations

from indexer.search.bridge import bridge_terms
from indexer.search.official import match_label
from indexer.search.query import parse_query
from indexer.search.searcher import Searcher
from indexer.search.types import MATCH_OFFICIAL, SearchRequest
from indexer.storage.generations import GenerationStore
from indexer.storage.layout import GenerationLayout
from indexer.storage.vectors.term_table import load_term_table
from tests.conftest import SAMPLE_CORPUS


def _official(searcher: Searcher, query: str, mode: str) -> dict[str, list[str]]:
    """Text → official terms of the hits found only through an official term."""
    resp = searcher.search(SearchRequest(query, mode=mode, size=50))
    return {h.text: h.official_terms for h in resp.hits if h.match == MATCH_OFFICIAL}


def test_a_term_looked_up_finds_the_corpus_term_nearest_to_it_and_names_it(build_index, encoder):
    # 枫桥经验 is not in the sample reports as typed; one of them names its practice 枫桥式 (a domain word the
    # corpus uses), which no lexicon rule adds for 枫桥经验. The bridge is opt-in (rewrite.bridge_terms).
    files = {p.name: p.read_bytes() for p in SAMPLE_CORPUS.iterdir() if p.is_file()}
    sample_index, report = build_index(files, **{"rewrite.bridge_terms": 1})
    assert report.exit_code == 0
    searcher = Searcher(sample_index, encoder)
    try:
        _looked_up_terms_are_bridged(sample_index, searcher, encoder)
    finally:
        searcher.close()


def _looked_up_terms_are_bridged(sample_index, searcher: Searcher, encoder) -> None:
    found = _official(searcher, "枫桥经验", "hybrid")
    assert any("枫桥式" in terms and "枫桥式" in text and "枫桥经验" not in text for text, terms in found.items()), found
    hit = next(h for h in searcher.search(SearchRequest("枫桥经验", mode="hybrid")).hits if h.match == MATCH_OFFICIAL)
    assert match_label(hit) == "按公文用语匹配：枫桥式"
    # keyword mode stays the typed words (and the lexicon's terms): no model call, no corpus terms
    assert not any("枫桥式" in terms for terms in _official(searcher, "枫桥经验", "keyword").values())
    off = Searcher(sample_index.with_overrides({"rewrite.bridge_terms": 0}), encoder)
    try:
        assert not any("枫桥式" in terms for terms in _official(off, "枫桥经验", "hybrid").values())
    finally:
        off.close()
    # A question in the user's own words gets no corpus terms: its vector is near many terms that only share
    # its words (measured: practice questions lost on both small sets, docs/evaluation.md).
    with searcher.snapshot() as snap:
        table = snap.term_table()
        assert table is not None and "枫桥式" in table.terms
        question = parse_query("村里怎么学习枫桥经验把矛盾化解在基层")
        assert bridge_terms(table, searcher.embed_query(question.semantic_text), question,
                            searcher.config.rewrite) == ()


def test_every_run_stores_the_term_table_of_its_own_paragraphs(build_index):
    def terms(config) -> tuple[str, ...]:
        store = GenerationStore(config.index_dir)
        layout = GenerationLayout(config.index_dir / "generations" / store.current_name())
        table = load_term_table(layout.terms, layout.term_vectors)
        assert table is not None and table.vectors.shape == (len(table.terms), 512)
        return table.terms

    config, report = build_index({"a.txt": "某镇2023年工作报告\n我镇推行“板凳调解工作法”，纠纷就地化解。"},
                                 **{"rewrite.bridge_terms": 1})
    assert report.exit_code == 0 and "板凳调解工作法" in terms(config)
    (build_index.corpus / "a.txt").unlink()  # an incremental run: the removed report's terms go with it
    config, report = build_index({"b.txt": "某乡2023年工作报告\n全乡选培“法律明白人”86名。"},
                                 **{"rewrite.bridge_terms": 1})
    assert report.exit_code == 0
    assert "法律明白人" in terms(config) and "板凳调解工作法" not in terms(config)
    # off (the default): no table is stored, and nothing is bridged
    config, report = build_index({"c.txt": "某村2023年工作报告\n推行“红色议事厅”。"})
    store = GenerationStore(config.index_dir)
    layout = GenerationLayout(config.index_dir / "generations" / store.current_name())
    assert report.exit_code == 0 and load_term_table(layout.terms, layout.term_vectors) is None
