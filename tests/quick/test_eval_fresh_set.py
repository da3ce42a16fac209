"""The third evaluation set (tests/data/eval-fresh, issue 27) is consistent: every judged passage is in its file,
every judged query exists, practice and wording questions never appear verbatim in a document, keywords do,
the sources name each corpus file once, and the harder practice questions (P25–P40)
keep clear of their answers' words. A broken judgment would silently score as a miss, so this is checked cheaply
here rather than discovered in a benchmark."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import jieba

from indexer.core.config import Config
from indexer.pipeline.chunk import chunk_paragraphs
from indexer.pipeline.clean import normalize_spaces
from indexer.pipeline.ingest import parse_file

SET = Path(__file__).resolve().parents[2] / "tests" / "data" / "eval-fresh"
KINDS = {"practice", "wording", "keyword"}
# The harder practice questions added in session 29 (issue 27): everyday words only, see the last test.
HARD_PRACTICE = {f"P{n}" for n in range(25, 41)}
GENERIC = {"村里", "村子", "镇上", "镇里", "乡里", "政府", "学校", "家里", "老人", "孩子", "群众", "老百姓", "问题"}


def _rows(name: str) -> list[list[str]]:
    with open(SET / name, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[1:]


def _corpus() -> dict[str, str]:
    return {p.name: normalize_spaces(p.read_text(encoding="utf-8").replace("\n", " "))
            for p in sorted((SET / "corpus").glob("*.txt"))}


def test_queries_have_known_kinds_and_unique_ids():
    queries = _rows("queries.tsv")
    ids = [q[0] for q in queries]
    assert len(ids) == len(set(ids))
    assert {q[1] for q in queries} <= KINDS
    assert all(len(q) == 3 and q[2].strip() for q in queries)


def test_every_judgment_names_a_query_and_a_passage_in_its_file():
    queries = {q[0] for q in _rows("queries.tsv")}
    corpus = _corpus()
    judged = set()
    for qid, name, grade, passage in _rows("qrels.tsv"):
        assert qid in queries, qid
        assert grade in {"1", "2"}, (qid, name, grade)
        assert name in corpus, (qid, name)
        assert normalize_spaces(passage) in corpus[name], (qid, name, passage)
        judged.add(qid)
    assert judged == queries  # no query left without judgments


def test_every_judged_passage_lies_inside_one_indexed_chunk():
    """What the evaluation matches is a chunk's text: a passage cut by a chunk boundary, or a heading (kept as the
    chunk's heading path, not its text), could never be found, and would cap the score for a reason unrelated to
    ranking."""
    chunks: dict[str, list[str]] = {}
    for qid, name, _grade, passage in _rows("qrels.tsv"):
        if name not in chunks:
            doc = parse_file(SET / "corpus" / name, name, 10**8)
            chunks[name] = [normalize_spaces(c.text) for c in chunk_paragraphs(doc.paragraphs, name, Config())]
        assert any(normalize_spaces(passage) in text for text in chunks[name]), (qid, name, passage)


def test_questions_are_not_verbatim_in_the_corpus_but_keywords_are():
    corpus = "\n".join(_corpus().values())
    for qid, kind, text in _rows("queries.tsv"):
        if kind == "keyword":
            assert text in corpus, qid
        else:
            assert text not in corpus, qid


def test_sources_list_every_corpus_file_once():
    files = [r[0] for r in _rows("sources.tsv")]
    assert sorted(files) == sorted(_corpus())
    assert all(r[1].startswith("http") for r in _rows("sources.tsv"))


def test_hard_practice_questions_avoid_the_words_of_their_answers():
    """P25–P40 ask as someone who does not know the reports' vocabulary would: with every paragraph judged grade 2
    for them they share at most one word of two or more characters, and only a generic one (村里, 政府, 学校 …).
    Words are cut by jieba's default dictionary in a Tokenizer of its own, so a user dictionary loaded elsewhere
    in the session cannot change the split. Each also has grade-2 paragraphs in at least two documents."""
    tokenizer = jieba.Tokenizer()
    queries = {q[0]: q[2] for q in _rows("queries.tsv") if q[0] in HARD_PRACTICE}
    assert set(queries) == HARD_PRACTICE
    paragraphs = {p.name: [normalize_spaces(line) for line in p.read_text(encoding="utf-8").splitlines()[1:]
                           if line.strip()] for p in (SET / "corpus").glob("*.txt")}
    files: dict[str, set[str]] = {qid: set() for qid in queries}
    for qid, name, grade, passage in _rows("qrels.tsv"):
        if qid not in queries or grade != "2":
            continue
        files[qid].add(name)
        paragraph = next(p for p in paragraphs[name] if normalize_spaces(passage) in p)
        words = {w for w in tokenizer.lcut(queries[qid]) if len(w) >= 2 and re.search(r"[\u4e00-\u9fff]", w)}
        shared = {w for w in words if w in paragraph}
        assert len(shared) <= 1 and shared <= GENERIC, (qid, name, sorted(shared))
    assert all(len(names) >= 2 for names in files.values()), files
