"""Keyword-side query rewriting (indexer/search/rewrite.py): scaffolding stripped, everyday words expanded to
official terms at a lower weight, constrained queries left exactly as typed; real backends, real sample index."""
from __future__ import annotations


import pytest

from indexer.core.config import Config, RewriteSettings
from indexer.storage.fulltext.base import FullTextRecord
from indexer.storage.fulltext.factory import BACKENDS, backend_class
from indexer.core.querytree import Boosted, Group, Terms
from indexer.search.query import parse_query
from indexer.search.rewrite import COLLOQUIAL_LEXICON, QueryRewriter, Rule, read_lexicon, strip_scaffolding
from indexer.search.searcher import Searcher
from indexer.search.types import SearchRequest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RULES = [
    Rule(alternatives=(("上访",), ("告状",)), targets=("信访",)),
    Rule(alternatives=(("老案子",),), targets=("积案", "信访积案")),
    Rule(alternatives=(("学生", "法"),), targets=("法治进校园",)),
]


def rewriter(**kw) -> QueryRewriter:
    return QueryRewriter(RULES, **{"strip": True, "expand": True, "weight": 0.5, **kw})


# -- the lexicon file -----------------------------------------------------------------------------------

def test_shipped_lexicon_parses_and_maps_the_issues_examples():
    rw = QueryRewriter(read_lexicon(COLLOQUIAL_LEXICON))
    assert len(rw.rules) > 100
    cases = {
        "上访老案子怎么处理": {"信访", "积案", "信访积案"},
        "农民工要工资难": {"欠薪", "根治欠薪"},
        "骗老人的保健品": {"养老诈骗"},
        "给学生上法律课": {"法治进校园", "法治副校长"},
        "一把手年底汇报": {"述法"},
        "村里请律师当顾问": {"法律顾问"},
        "安排干部去法院听案件审理": {"旁听庭审"},
        "帮企业查法律隐患": {"法治体检"},
        "邻居吵架": {"矛盾纠纷"},
    }
    for query, wanted in cases.items():
        assert wanted <= set(rw.expansions(query)), query
    assert rw.expansions("三项制度") == []  # an official term with no everyday form: nothing added


def test_lexicon_format_errors_name_file_and_line(tmp_path):
    path = tmp_path / "lex.txt"
    path.write_text("# comment\n上访|告状 => 信访  # trailing comment\n学生&法 => 法治进校园\n", encoding="utf-8")
    rules = read_lexicon(path)
    assert rules[0].alternatives == (("上访",), ("告状",)) and rules[0].targets == ("信访",)
    assert rules[1].alternatives == (("学生", "法"),)
    path.write_text("上访 信访\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lex\.txt:1"):
        read_lexicon(path)
    path.write_text("上访 => 信访\n骗 => 诈骗\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lex\.txt:2.*too short"):
        read_lexicon(path)


# -- scaffolding --------------------------------------------------------------------------------------------

def test_question_scaffolding_is_stripped_on_word_boundaries_only():
    assert strip_scaffolding("老年人防诈骗宣传有哪些做法") == "老年人防诈骗宣传"
    assert strip_scaffolding("乡镇执法是怎么安排的") == "乡镇执法"
    assert strip_scaffolding("每个村都请律师当法律顾问的做法") == "每个村都请律师当法律顾问"
    assert strip_scaffolding("怎么处理多年未解决的上访问题") == "处理多年未解决的上访问题"
    assert strip_scaffolding("枫桥经验") == "枫桥经验"  # 经验 inside a dictionary word stays
    assert "法律风险把关" in strip_scaffolding("出台重大决策之前怎样做法律风险把关")  # 做|法律, not 做法


def test_stripped_words_leave_the_keyword_query():
    rw = rewriter(expand=False)
    root = rw.keyword_query(parse_query("普法宣传有哪些做法")).root
    assert isinstance(root, Terms) and "做法" not in root.words and {"普法宣传"} <= set(root.words)
    assert "做法" in parse_query("普法宣传有哪些做法").terms  # the parser alone keeps it
    # A query that is nothing but scaffolding keeps its words (something must be searched).
    assert rw.keyword_query(parse_query("有哪些做法")).root == parse_query("有哪些做法").root


# -- expansion ----------------------------------------------------------------------------------------------

def test_expansions_are_a_separate_clause_with_lower_weight():
    parsed = parse_query("上访老案子怎么处理")
    root = rewriter(weight=0.4).keyword_query(parsed).root
    assert isinstance(root, Group) and not root.must and not root.must_not
    typed, expansion = root.should
    assert isinstance(typed, Terms) and {"上访", "案子", "处理"} <= set(typed.words)  # full weight, as typed
    assert isinstance(expansion, Boosted) and expansion.boost == 0.4
    added = {w for t in expansion.child.should for w in t.words}
    assert {"信访", "积案", "信访积案"} <= added
    assert not added & set(typed.words)
    # Only the keyword side changes: terms (highlighting) and the text to embed stay as typed.
    rewritten = rewriter().keyword_query(parsed)
    assert rewritten.terms == parsed.terms and rewritten.semantic_text == parsed.semantic_text


def test_a_looked_up_official_term_is_not_pulled_towards_its_neighbours():
    rw = QueryRewriter(read_lexicon(COLLOQUIAL_LEXICON))
    lookup = parse_query("依申请公开")  # contains the everyday 申请公开, but is the official term itself
    assert rw.keyword_query(lookup) is lookup
    question = rw.keyword_query(parse_query("农村高价彩礼怎么治理")).root  # a question keeps the neighbours
    assert {"移风易俗"} <= {w for t in question.should[1].child.should for w in t.words}


def test_and_rule_needs_every_part():
    rw = rewriter()
    assert "法治进校园" in rw.expansions("怎么给中小学生讲法律")
    assert rw.expansions("学生资助政策") == []


@pytest.mark.parametrize("query", ['"上访" 老案子', "上访 AND 老案子", "老案子 -上访", "+上访 老案子",
                                   "(上访 老案子)", "上访 OR 老案子"])
def test_quoted_and_boolean_queries_are_never_rewritten(query):
    parsed = parse_query(query)
    assert rewriter().keyword_query(parsed) is parsed


def test_a_question_quoting_an_everyday_word_for_emphasis_is_expanded():
    # 怎么处理“老案子”？: the quotes mark a term, as in prose (they are not a filter in a question), so the
    # everyday word inside them still reaches the official one; a bare quote or + keeps it literal (above).
    parsed = parse_query("怎么处理“老案子”？")
    root = rewriter().keyword_query(parsed).root
    assert isinstance(root, Group)
    added = {w for t in root.should[1].child.should for w in t.words}
    assert {"积案", "信访积案"} <= added
    strict = parse_query("+“老案子”怎么处理？")
    assert rewriter().keyword_query(strict) is strict


def test_switched_off_by_config():
    parsed = parse_query("上访老案子有哪些做法")
    off = QueryRewriter.from_config(Config(rewrite=RewriteSettings(strip_scaffolding=False, expand_colloquial=False)))
    assert off.keyword_query(parsed) is parsed
    default = QueryRewriter.from_config(Config())  # expansion on, stripping off (measured: no gain anywhere)
    assert default.expand and not default.strip
    only_strip = QueryRewriter.from_config(Config(rewrite=RewriteSettings(strip_scaffolding=True,
                                                                          expand_colloquial=False)))
    assert isinstance(only_strip.keyword_query(parsed).root, Terms)


# -- both full-text backends honour the lower weight ----------------------------------------------------------

def _record(cid: int, text: str) -> FullTextRecord:
    return FullTextRecord(chunk_id=cid, doc_id=f"d{cid}", text=text, title="某镇2023年法治政府建设报告",
                          heading_path="", place="某镇", year=2023)


@pytest.mark.parametrize("backend", BACKENDS)
def test_backends_find_the_official_wording_and_rank_the_users_words_first(backend, tmp_path):
    ix = backend_class(backend).create(tmp_path / "ft")
    filler = ["组织开展安全生产大检查，排查整改隐患十二处。", "完成村两委换届选举工作。",
              "推进农村人居环境整治，清理垃圾四十余吨。", "开展森林防火宣传，发放资料五百份。"]
    ix.add([_record(1, "今年以来全镇共接待群众上访十五批次，均已妥善处理。"),
            _record(2, "着力化解信访积案，7起历时多年的积案有6起得到化解。"),
            *[_record(10 + i, t) for i, t in enumerate(filler)]])
    ix.commit()
    try:
        parsed = parse_query("上访")
        assert [cid for cid, _ in ix.search(parsed, 10)] == [1]
        hits = ix.search(rewriter(weight=0.5).keyword_query(parsed), 10)
        assert [cid for cid, _ in hits] == [1, 2]  # the official passage is found, below the user's own word
        weak = dict(ix.search(rewriter(weight=0.25).keyword_query(parsed), 10))
        strong = dict(ix.search(rewriter(weight=0.5).keyword_query(parsed), 10))
        assert weak[2] == pytest.approx(strong[2] / 2, rel=1e-3)  # the weight scales the expansion's score
        assert weak[1] == pytest.approx(strong[1], rel=1e-3)  # and leaves the typed words' score alone
    finally:
        ix.close()


# -- end to end on the sample corpus ----------------------------------------------------------------------------

@pytest.mark.search
def test_everyday_question_finds_the_official_passage_only_with_the_lexicon(sample_index, searcher, encoder):
    request = SearchRequest("上访老案子怎么处理", mode="keyword", size=5, collapse_duplicates=False)
    with_lexicon = searcher.search(request)
    assert any("信访积案" in h.text for h in with_lexicon.hits[:3])
    plain = Searcher.open(sample_index.with_overrides({"rewrite.expand_colloquial": False}), encoder)
    try:
        without = plain.search(request)
        assert not any("信访积案" in h.text for h in without.hits)
    finally:
        plain.close()
    # The same question with the everyday word in quotes (emphasis, not a filter) finds it too.
    quoted_question = searcher.search(SearchRequest("怎么处理“老案子”？", mode="keyword", size=5,
                                                    collapse_duplicates=False))
    assert any("信访积案" in h.text for h in quoted_question.hits[:3])
    # A quoted everyday word means exactly that word: no official passage is slipped in.
    quoted = searcher.search(SearchRequest('"上访"', mode="keyword", size=10, collapse_duplicates=False))
    assert all("上访" in h.text for h in quoted.hits)


def test_expansion_and_clause_limits_are_settings():
    """rewrite.max_expansion_terms and rewrite.min_clause_chars come from the config, not module constants."""
    text = "上访老案子有哪些做法"
    assert len(QueryRewriter.from_config(Config()).expansions(text)) >= 2
    one = QueryRewriter.from_config(Config().with_overrides({"rewrite.max_expansion_terms": 1}))
    assert one.expansions(text) == QueryRewriter.from_config(Config()).expansions(text)[:1]

    statement = parse_query("全镇共接待群众来访，均已妥善处理完毕")
    default = QueryRewriter.from_config(Config()).clauses(statement)
    assert default is not None and set(default.child.glued) == {"全镇共接待群众来访", "均已妥善处理完毕"}
    longer = QueryRewriter.from_config(Config().with_overrides({"rewrite.min_clause_chars": 9})).clauses(statement)
    assert longer is not None and longer.child.glued == ("全镇共接待群众来访",)
    shortest = Config().with_overrides({"rewrite.min_clause_chars": 100})
    assert QueryRewriter.from_config(shortest).clauses(statement) is None


def test_a_rule_survives_words_inserted_into_its_phrase():
    """Issue 27, direction 1: users insert words into the phrases the lexicon lists (给村里的学生讲一讲法律
    for 给学生讲法律); the alternative's words in order within rewrite.rule_window words still fire it --
    whole words within one clause, and never a phrase with a function word (村里的钱) or through a longer
    word (申请 inside 申请人)."""
    rules = read_lexicon(COLLOQUIAL_LEXICON)
    exact = QueryRewriter(rules, window=0)
    spread = QueryRewriter.from_config(Config())
    assert spread.window == RewriteSettings().rule_window > 0
    for query, wanted in {"给村里的学生讲一讲法律": "法治进校园", "领导干部平时学习一下法律": "领导干部学法"}.items():
        assert wanted not in exact.expansions(query), query
        assert wanted in spread.expansions(query), query
    # a function word inside the listed phrase, a word inside a longer one, a clause boundary: no fire
    assert "村务公开" not in spread.expansions("骗了村里老人的钱")
    assert "依申请公开" not in spread.expansions("如何认定申请人是以信息公开名义进行信访")
    assert "法治进校园" not in spread.expansions("给学生发了奖学金，讲法律的课另排")
    far = "给学生" + "发了很多的奖学金然后" + "讲法律"
    assert "法治进校园" not in spread.expansions(far)  # more than the window apart
