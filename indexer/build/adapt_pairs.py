"""Training pairs the reports label themselves, read from a published generation's catalog (no judgments):

- heading → a paragraph under it (the heading's words without its number: 一、 （二） 1.),
- informative document title → one of its paragraphs (a statute's article, a news headline; a bare
  "XX镇2023年法治政府建设工作报告" says only place and year, which the query side rarely holds),
- lead sentence → the rest of its paragraph (一是强化学法用法。→ what was done).

The anchor plays the query, the paragraph the indexed text. Each anchor is used for at most
`PER_ANCHOR` paragraphs, and boilerplate copies (one dup group) count once, so a common heading or a
paragraph copied into every report does not dominate the pass.
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from indexer.build.embedding_input import informative_title
from indexer.pipeline.chunk import sentences
from indexer.pipeline.lines import parse_marker
from indexer.storage.catalog import Catalog

PER_ANCHOR = 2  # paragraphs per heading / title
MIN_ANCHOR_CHARS = 4
MAX_ANCHOR_CHARS = 80  # a longer "lead sentence" is the paragraph, not its topic
MIN_REST_CHARS = 30


@dataclass(frozen=True)
class Pair:
    anchor: str
    positive: str
    kind: str  # "heading", "title", "lead"


@dataclass(frozen=True)
class Pairs:
    pairs: list[Pair]
    paragraphs: int  # chunks read (the corpus size the cost is quoted per)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for p in self.pairs:
            out[p.kind] += 1
        return dict(out)


def _heading_words(heading: str) -> str:
    marker = parse_marker(heading)
    text = heading[marker.end:] if marker else heading
    return text.strip().rstrip("。；;：:，, ")


def _lead_pair(text: str) -> Pair | None:
    parts = sentences(text)
    if len(parts) < 2:
        return None
    lead = _heading_words(parts[0].strip())
    rest = text[text.find(parts[0]) + len(parts[0]):].strip()
    if not MIN_ANCHOR_CHARS <= len(lead) <= MAX_ANCHOR_CHARS or len(rest) < MIN_REST_CHARS:
        return None
    return Pair(lead, rest, "lead")


def collect_pairs(catalog_path: Path, max_pairs: int, seed: int = 0) -> Pairs:
    """At most `max_pairs` pairs, a seeded sample of every kind in proportion."""
    catalog = Catalog(catalog_path)
    try:
        titles = {d.doc_id: informative_title(d.meta) for d in catalog.documents()}
        by_anchor: dict[tuple[str, str], list[str]] = defaultdict(list)  # (kind, anchor) -> paragraphs
        leads: list[Pair] = []
        seen_groups: set[int] = set()
        paragraphs = 0
        for row in catalog.iter_chunks():
            paragraphs += 1
            if row.dup_group is not None:
                if row.dup_group in seen_groups:
                    continue
                seen_groups.add(row.dup_group)
            if row.heading_path:
                heading = _heading_words(row.heading_path[-1])
                if MIN_ANCHOR_CHARS <= len(heading) <= MAX_ANCHOR_CHARS:
                    by_anchor["heading", heading].append(row.text)
            title = titles.get(row.doc_id, "")
            if MIN_ANCHOR_CHARS <= len(title) <= MAX_ANCHOR_CHARS:
                by_anchor["title", title].append(row.text)
            lead = _lead_pair(row.text)
            if lead is not None:
                leads.append(lead)
    finally:
        catalog.close()
    rng = random.Random(seed)
    pairs = list(leads)
    for (kind, anchor), texts in by_anchor.items():
        for text in rng.sample(texts, min(PER_ANCHOR, len(texts))):
            if text != anchor:
                pairs.append(Pair(anchor, text, kind))
    pairs.sort(key=lambda p: (p.kind, p.anchor, p.positive))  # the sample depends on the seed, not dict order
    rng.shuffle(pairs)
    return Pairs(pairs[:max_pairs], paragraphs)


def batches(pairs: list[Pair], size: int) -> list[list[Pair]]:
    """Batches with no anchor and no paragraph twice: another pair's paragraph is a negative for each anchor
    (in-batch negatives), which is false when it is the same text or answers the same heading."""
    out: list[list[Pair]] = []
    pending = list(pairs)
    while pending:
        batch: list[Pair] = []
        texts: set[str] = set()
        left: list[Pair] = []
        for pair in pending:
            if len(batch) < size and pair.anchor not in texts and pair.positive not in texts:
                batch.append(pair)
                texts.update((pair.anchor, pair.positive))
            else:
                left.append(pair)
        if len(batch) < 2:  # a pair alone has no negative: nothing to learn
            break
        out.append(batch)
        pending = left
    return out
