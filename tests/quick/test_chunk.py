"""Chunking: one chunk per text paragraph, sentence-aligned balanced splits, stable ids."""
from __future__ import annotations

import csv
from pathlib import Path


from indexer.pipeline.chunk import chunk_paragraphs, sentences, split_text
from indexer.pipeline.clean import clean_blocks, normalize_spaces
from indexer.core.config import Config
from indexer.core.document import Block, Paragraph, stable_chunk_id
from indexer.pipeline.load import load_file
from indexer.pipeline.structure import build_paragraphs

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpora" / "fazhi-2023"
QRELS = ROOT / "corpora" / "eval" / "qrels.tsv"
CONFIG = Config()


def sample_paragraphs(name: str) -> list[Paragraph]:
    path = CORPUS / name
    return build_paragraphs(clean_blocks(load_file(path, name, 10**8).blocks))


def sample_chunks(name: str, config: Config = CONFIG):
    return chunk_paragraphs(sample_paragraphs(name), "doc0001", config, doc_path=name)


def long_paragraph(n_sentences: int, sentence_len: int = 48) -> str:
    """Distinct sentences of a fixed length, each ending in 。"""
    return "".join(f"第{i:02d}句" + "法" * (sentence_len - 5) + "。" for i in range(n_sentences))


def test_one_chunk_per_text_paragraph_headings_give_none():
    paragraphs = sample_paragraphs("000_285c95f969a2e408.txt")
    chunks = sample_chunks("000_285c95f969a2e408.txt")
    text_paragraphs = [p for p in paragraphs if not p.is_heading]
    assert [c.paragraph_index for c in chunks] == [p.index for p in text_paragraphs]
    assert all(c.part == 0 for c in chunks)
    by_index = {p.index: p for p in paragraphs}
    for c in chunks:
        p = by_index[c.paragraph_index]
        assert (c.text, c.heading_path, c.section_kind, c.doc_path) == (
            p.text, p.heading_path, p.section_kind, "000_285c95f969a2e408.txt")


def test_long_paragraphs_split_at_sentence_ends_within_limit():
    paragraphs = {p.index: p.text for p in sample_paragraphs("004_080d5c8e485e4c1a.txt")}
    chunks = sample_chunks("004_080d5c8e485e4c1a.txt")
    split = [c for c in chunks if c.part > 0]
    assert split, "004 has paragraphs of 500+ characters"
    for index in {c.paragraph_index for c in split}:
        parts = [c for c in chunks if c.paragraph_index == index]
        assert [c.part for c in parts] == list(range(len(parts)))
        assert "".join(c.text for c in parts) == paragraphs[index]  # nothing lost or repeated
        for c in parts:
            assert len(c.text) <= CONFIG.analysis.max_chunk_chars
            assert c.text[-1] in "。！？；"


def test_parts_are_balanced():
    text = long_paragraph(15)  # 720 characters: three parts of 240, not 350 + 350 + 20
    parts = split_text(text, 350, 40)
    assert [len(p) for p in parts] == [240, 240, 240]


def test_split_prefers_item_starts_and_keeps_item_leads_with_their_text():
    body = "法" * 150 + "。"
    text = f"一是加强学习。{body}{body}二是完善制度。{body}三是强化监督。{body}"
    parts = split_text(text, 350, 40)
    assert all(len(p) <= 350 for p in parts)
    # two parts; the cut goes before 二是, not after a lead like "三是强化监督。"
    assert [(p[:2], len(p)) for p in parts] == [("一是", 309), ("二是", 316)]


def test_overlong_sentence_is_cut_at_commas_as_last_resort():
    clause = "加强" + "法" * 55 + "，"
    text = clause * 9 + "完成。"  # one 540-character sentence
    parts = split_text(text, 350, 40)
    assert len(parts) == 2 and all(len(p) <= 350 for p in parts)
    assert parts[0].endswith("，") and "".join(parts) == text


def test_short_fragments_are_merged_into_a_neighbour():
    text = long_paragraph(7, 50) + "完。"  # 350 + 2: a tiny tail must not stand alone
    parts = split_text(text, 350, 40)
    assert all(len(p) >= 40 for p in parts)
    assert "".join(parts) == text


def test_sentences_keep_punctuation_and_closing_quotes():
    assert sentences("他说“好。”然后走了。最后") == ["他说“好。”", "然后走了。", "最后"]


def test_chunk_ids_are_stable_and_follow_text():
    name = "002_8be8c960c0460749.txt"
    first = sample_chunks(name)
    again = sample_chunks(name)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert len({c.chunk_id for c in first}) == len(first)
    assert all(0 < c.chunk_id < 2**63 for c in first)
    # editing one paragraph changes only that paragraph's chunk id
    paragraphs = sample_paragraphs(name)
    target = next(p for p in paragraphs if not p.is_heading and "心桥工程" in p.text)
    target.text = target.text.replace("268起", "269起")
    edited = chunk_paragraphs(paragraphs, "doc0001", CONFIG)
    changed = [(a.chunk_id, b.chunk_id) for a, b in zip(first, edited) if a.chunk_id != b.chunk_id]
    assert len(changed) == 1
    # another document with the same text gets other ids
    other = chunk_paragraphs(sample_paragraphs(name), "doc0002", CONFIG)
    assert not {c.chunk_id for c in first} & {c.chunk_id for c in other}


def test_identical_paragraphs_get_distinct_ids():
    paragraphs = [Paragraph(0, "同样的一段话。"), Paragraph(1, "同样的一段话。")]
    chunks = chunk_paragraphs(paragraphs, "doc", CONFIG)
    assert chunks[0].chunk_id == stable_chunk_id("doc", "同样的一段话。", 0)
    assert chunks[1].chunk_id == stable_chunk_id("doc", "同样的一段话。", 1)


def test_headings_only_document_yields_no_chunks():
    paragraphs = build_paragraphs(clean_blocks([Block("一、工作情况"), Block("二、存在问题"), Block("三、下一步计划")]))
    assert paragraphs and all(p.is_heading for p in paragraphs)
    assert chunk_paragraphs(paragraphs, "doc", CONFIG) == []


def test_smaller_limit_is_honoured():
    config = Config().with_overrides({"analysis.max_chunk_chars": 120, "analysis.min_chunk_chars": 20})
    for c in sample_chunks("003_82ca6d383a15eea9.txt", config):
        assert len(c.text) <= 120


def _qrels() -> list[dict[str, str]]:
    with QRELS.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_every_judged_passage_lies_in_exactly_one_chunk():
    rows = _qrels()
    assert len(rows) == 116
    chunks = {name: sample_chunks(name) for name in {row["file"] for row in rows}}
    unmatched = []
    for row in rows:
        passage = normalize_spaces(row["passage"])
        hits = [c for c in chunks[row["file"]] if passage in c.text]
        if len(hits) != 1:
            unmatched.append((row["qid"], row["file"][:3], passage, len(hits)))
    assert unmatched == []
