"""The relevance floor of the semantic side: which hits only near in meaning are near enough to show.

Vector search always returns neighbours, even for a query the corpus knows nothing about (量子计算机,
asdfgh). A hit the keyword side found is never dropped; one only the embedding found must have a cosine
similarity of at least `Config.retrieval.semantic_floor` (calibrated: scripts/labs/calibrate_floor.py), and more where a
cosine says less:

- a fragment -- fewer than `Config.retrieval.short_chunk_chars` letters and no complete sentence: a salutation
  各位代表,同志们:, a date, a heading or a line cut off (组建) -- sits close to every query (m3e gives it
  0.70-0.76 against queries that have nothing to do with the reports), so it needs
  `Config.retrieval.semantic_floor_short`. A short complete sentence (a statute's 国家鼓励教科书循环使用。) says
  something and keeps the ordinary floor;
- when the keyword side found nothing at all (not one of the query's words, nor an official term for them, is
  in the reports), an embedding neighbour is the only evidence: it needs `Config.retrieval.semantic_floor_unmatched`
  (off-topic queries reach 0.69 on ordinary paragraphs).
Figures: docs/evaluation.md ("The floor for short fragments and unmatched queries").
"""
from __future__ import annotations

import re

from indexer.core.config import Config
from indexer.engines.base import Snapshot
from indexer.search.fuse import Fused

_NOT_LETTER = re.compile(r"[\W_]+")
_SENTENCE_END = tuple("。！？；.!?;")
_CLOSING = "”’」』）)》"


def letters(text: str) -> int:
    """Characters that carry content: letters, digits, ideographs (not punctuation or spaces)."""
    return len(_NOT_LETTER.sub("", text))


def is_fragment(text: str, min_letters: int) -> bool:
    """Short, and not a sentence that ends as one (各位代表,同志们: / 组建 / 五、推动重大问题依法决策。在)."""
    return letters(text) < min_letters and not text.strip().rstrip(_CLOSING).endswith(_SENTENCE_END)


def above_floor(snap: Snapshot, fused: list[Fused], found: set[int], cosines: dict[int, float],
                config: Config, known: bool) -> list[Fused]:
    """`fused` without the hits only near in meaning that are not near enough. `found`: the keyword side's
    ids; `cosines`: each semantic candidate's paragraph cosine (a sentence re-scoring, in the fused scores,
    may only raise it: it re-orders, it never drops what the paragraph's own similarity keeps); `known`:
    some paragraph has one of the query's words or an official term for them."""
    floor = config.retrieval.semantic_floor
    if floor <= 0:
        return fused
    need = floor if known else max(floor, config.retrieval.semantic_floor_unmatched)

    def cosine(f: Fused) -> float:
        return max(cosines.get(f.chunk_id, 0.0), f.scores.get("semantic", 0.0))

    kept = [f for f in fused if f.chunk_id in found or cosine(f) >= need]
    # Only a fragment below its own, higher floor can still go: read just those candidates' texts.
    short_floor = config.retrieval.semantic_floor_short
    doubtful = [f.chunk_id for f in kept if f.chunk_id not in found and cosine(f) < short_floor]
    if not doubtful:
        return kept
    rows = snap.chunks(doubtful)
    short = {cid for cid, row in rows.items() if is_fragment(row.text, config.retrieval.short_chunk_chars)}
    return [f for f in kept if f.chunk_id not in short]
