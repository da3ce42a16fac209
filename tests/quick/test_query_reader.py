"""One meaning of the query tree for every engine (core/querytree.QueryReader): the Whoosh and tantivy
indexes and the Milvus client-side check match exactly the same chunks, whatever the query's shape."""
from __future__ import annotations

from pathlib import Path

import pytest

import test_fulltext as base
from indexer.core.analysis import default_analyzer, squeeze
from indexer.core.querytree import AnyOf, Boosted, Group, ParsedQuery, Phrase, Terms
from indexer.engines.milvus.recheck import matcher
from indexer.engines.milvus.tokens import text_tokens, words_of
from indexer.search.literal import literal_query
from indexer.search.query import parse_query
from indexer.storage.fulltext.factory import BACKENDS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TYPED = ['"化解信访积案"', "小事不出村", "法律顾问 -律师", "信访积案化解做法", "观音堂镇 法治", "乡",
         "人民调解 AND 法律援助", "人民调解 OR 法律援助", "普法 NOT 宣传", "+普法 宣传 教育", "-宣传 普法",
         "(人民调解 OR 法律顾问) AND 村", "NOT (宣传 OR 教育) 普法", '"八五"普法', "如何通过居住权制度实现“以房养老”？",
         '"法治" "宣传"', "副镇长 投票决定", "每个村都请了法律顾问", "公职律师", "法律顾问 合法性审查",
         "(普法 -宣传) OR 调解", '"依法治国" OR "法治政府" -建设', "矛盾纠纷 多元化解 机制", "+矛盾纠纷 +多元化解"]
WORDS = Terms(("法治", "宣传"))
# Shapes the parser does not write but rewriting and the literal side do (Boosted, AnyOf of phrases, empty parts).
BUILT = [Boosted(WORDS, 0.3), Group(should=(WORDS, Boosted(Terms(("普法",)), 0.25))),
         AnyOf((Phrase("法治", ("法治",)), WORDS)), Group(must_not=(Phrase("宣传", ("宣传",)),)),
         Group(must=(WORDS,), should=(Terms(("普法",)),), must_not=(Phrase("宣传", ("宣传",)),)),
         Terms(("法治",), glued=("观音堂镇",), lone=("镇",)), Terms((), require_all=True, glued=("观音堂镇",)),
         Terms(("法治", "建设"), require_all=True, glued=("！",)), Group(should=(Phrase("！", ()),))]


def trees() -> list[ParsedQuery]:
    out = []
    for text in TYPED:
        parsed = parse_query(text)
        out += [parsed, literal_query(parsed)]
    return out + [ParsedQuery(text="", root=root, terms=(), phrases=(), semantic_text="") for root in BUILT]


@pytest.fixture(scope="module")
def local_matches(tmp_path_factory) -> dict[str, list[set[int]]]:
    out = {}
    for backend in BACKENDS:
        ix = base.build(tmp_path_factory.mktemp(backend) / "fulltext", backend=backend)
        out[backend] = [set(ix.match_ids(p)) for p in trees()]
        ix.close()
    return out


def test_every_engine_matches_the_same_chunks_for_every_query_shape(local_matches) -> None:
    analyzer = default_analyzer()
    held = {}
    for cid, (fileno, text) in base.LINES.items():
        rec = base.record(cid, fileno, text)
        held[cid] = (words_of(text_tokens(analyzer, rec.text, rec.context)), squeeze(rec.text))
    found = 0
    for n, parsed in enumerate(trees()):
        test = matcher(parsed.root)
        milvus = {cid for cid, (words, squeezed) in held.items() if test(words, squeezed)}
        assert local_matches["whoosh"][n] == local_matches["tantivy"][n] == milvus, parsed.root
        found += bool(milvus)
    assert found >= 40  # of 57: equal empty sets would prove little (some items are not in the five sample reports)
