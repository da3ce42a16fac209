"""Who else says it: the other reports of a shown hit's boilerplate group, and the other reports whose
paragraphs carry the sentence where the query matched (a stock phrase). Only marks: nothing is hidden."""
from __future__ import annotations

from typing import Callable

from indexer.storage.dedup import MatchedSentence, SentencePool, matched_sentence
from indexer.search.candidates import Candidates
from indexer.search.fuse import Fused
from indexer.search.types import SharedSentence, SharedWith

SENTENCE_MARK_DEPTH = 100  # other reports with a shown hit's stock sentence are looked for among these top hits


def list_group_members(page: list[Fused], cand: Candidates, shared: dict[int, list[SharedWith]]) -> None:
    """Add the other reports of each shown hit's boilerplate group to its `shared_with`."""
    groups = {g for f in page if (g := cand.group(f.chunk_id)) is not None}
    if not groups:
        return
    members = cand.snap.dup_members(groups)
    cand.load_docs(d for m in members.values() for _, d in m)
    for f in page:
        g = cand.group(f.chunk_id)
        if g is None:
            continue
        listed = shared.setdefault(f.chunk_id, [])
        known = {cand.doc_id(f.chunk_id)} | {s.doc_id for s in listed}
        group = [SharedWith(doc_id=d, path=cand.docs[d].path, place=cand.docs[d].meta.place, chunk_id=cid)
                 for cid, d in members.get(g, []) if d not in known and d in cand.docs]
        listed[:0] = group


def shared_sentences(page: list[Fused], spans: dict[int, list[tuple[int, int]]],
                     matched: Callable[[], list[int]], cand: Candidates, literal: set[int],
                     shared: dict[int, list[SharedWith]]) -> dict[int, SharedSentence]:
    """Mark the shown hits whose literal matches lie in one sentence that paragraphs of other reports
    among the query's top literal hits also carry (dedup.contains_sentence). `matched()`: the ranked results' ids,
    at least as far as their first SENTENCE_MARK_DEPTH literal matches (asked only when needed)."""
    if not (cand.parsed.terms or cand.parsed.phrases):
        return {}
    found: dict[int, MatchedSentence] = {}
    for f in page:
        if f.chunk_id in literal:
            sentence = matched_sentence(cand.rows[f.chunk_id].text, spans[f.chunk_id])
            if sentence is not None:
                found[f.chunk_id] = sentence
    if not found:
        return {}
    pool = [cid for cid in matched() if cid in literal][:SENTENCE_MARK_DEPTH]
    cand.load(pool, offsets=False)
    texts = SentencePool({cid: cand.rows[cid].text for cid in pool})
    rank = {cid: i for i, cid in enumerate(pool)}
    out: dict[int, SharedSentence] = {}
    for cid, sentence in found.items():
        seen = {cand.doc_id(cid)} | {s.doc_id for s in shared.get(cid, [])}  # listed copies: said already
        others = []
        for other in sorted(texts.holders(sentence), key=rank.__getitem__):  # the pool's order
            doc_id = cand.doc_id(other)
            if doc_id not in seen:
                seen.add(doc_id)
                others.append(other)
        if others:
            cand.load_docs(cand.doc_id(o) for o in others)
            text = cand.rows[cid].text[sentence.start : sentence.end].strip()
            out[cid] = SharedSentence(text, [
                SharedWith(doc_id=(d := cand.doc(o)).doc_id, path=d.path, place=d.meta.place, chunk_id=o)
                for o in others])
    return out
