"""Paragraph alignment of two reports of one place (issue 30 point 3): which paragraph of the later year continues
which of the earlier year, one to one.

Each pair of paragraphs is scored by the meaning of its text (the cosine of the stored chunk vectors, a heading's
vector where a heading has no chunk), by its wording (character bigrams shared, Dice) and by the heading it sits
under; the pairs are then assigned one to one (Hungarian assignment over the score matrix) and a pair is kept
when its score reaches the threshold. A later paragraph without a kept pair is 新增, an earlier one 未再提及.
Pure computation: the façade (search/years.py) gathers paragraphs and vectors from a snapshot.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from indexer.pipeline.lines import parse_marker

NEW, CONTINUED, DROPPED = "新增", "延续", "未再提及"
LABELS = (NEW, CONTINUED, DROPPED)

_NOISE = re.compile(r"[\s\d０-９.．%％,，、。:：;；!！?？“”\"'‘’()（）《》<>\-—…·]+")


@dataclass(frozen=True)
class AlignParagraph:
    """One paragraph (or heading line) as the aligner sees it."""

    index: int
    text: str
    is_heading: bool
    heading: str  # the innermost heading above it ("" at the top)
    vector: np.ndarray  # L2-normalised


@dataclass(frozen=True)
class AlignWeights:
    meaning: float = 0.5  # cosine of the vectors
    wording: float = 0.5  # character-bigram Dice of the texts (markers, digits and punctuation left out)
    heading: float = 0.1  # bonus: the headings above the two paragraphs share wording
    cross_kind: float = 0.1  # penalty: a heading line paired with a body paragraph
    # bonus: the same role in the report's frame (the opening paragraph; a short addressee or speaker line), the
    # labelling rule of tests/data/alignment/README.md; the size of the other structural terms
    role: float = 0.1
    # Measured and left out (indexer/evaluation/alignment.py, development pairs): a bonus for the same rank in
    # reading order or the same numbering lowered accuracy (0.986 → 0.90-0.94): excerpts start and stop apart.


@dataclass(frozen=True)
class Pair:
    earlier: int | None  # paragraph index in the earlier report (None: 新增)
    later: int | None  # in the later report (None: 未再提及)
    score: float  # the pair's score (0 for an unpaired paragraph)

    @property
    def label(self) -> str:
        if self.earlier is None:
            return NEW
        return DROPPED if self.later is None else CONTINUED


def core_text(text: str) -> str:
    """The words that carry a paragraph's topic: without its numbering marker, digits and punctuation."""
    marker = parse_marker(text)
    if marker is not None:
        text = text[marker.end:]
    return _NOISE.sub("", text)


def bigrams(text: str) -> set[str]:
    core = core_text(text)
    return {core[i:i + 2] for i in range(len(core) - 1)} or ({core} if core else set())


def dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def scores(earlier: Sequence[AlignParagraph], later: Sequence[AlignParagraph],
           weights: AlignWeights = AlignWeights()) -> np.ndarray:
    """The (len(earlier), len(later)) score matrix."""
    if not earlier or not later:
        return np.zeros((len(earlier), len(later)), dtype=np.float32)
    meaning = np.stack([p.vector for p in earlier]) @ np.stack([p.vector for p in later]).T
    grams_e = [bigrams(p.text) for p in earlier]
    grams_l = [bigrams(p.text) for p in later]
    heads_e = [bigrams(p.heading) for p in earlier]
    heads_l = [bigrams(p.heading) for p in later]
    roles_e, roles_l = _roles(earlier), _roles(later)
    out = np.empty_like(meaning, dtype=np.float32)
    for i, e in enumerate(earlier):
        for j, l in enumerate(later):
            s = weights.meaning * float(meaning[i, j]) + weights.wording * dice(grams_e[i], grams_l[j])
            s += weights.heading * dice(heads_e[i], heads_l[j])
            if e.is_heading != l.is_heading:
                s -= weights.cross_kind
            if roles_e[i] is not None and roles_e[i] == roles_l[j]:
                s += weights.role
            out[i, j] = s
    return out


MAX_FRAME_CHARS = 40
_ROLE_END = {"：": "addressee", ":": "addressee"}


def _roles(paragraphs: Sequence[AlignParagraph]) -> list[str | None]:
    """What a paragraph is in the report's frame: "opening" (the first body paragraph that is not a frame line),
    "addressee" (a short line ending in a colon: 各位代表：, 市委全面依法治市委员会：), "frame" (another short
    line before the opening: a dateline, the speaker); None for the rest."""
    out: list[str | None] = []
    opened = False
    for p in paragraphs:
        role = None
        text = p.text.strip()
        if not p.is_heading and not opened:
            if len(text) <= MAX_FRAME_CHARS:
                role = _ROLE_END.get(text[-1:], "frame")
            else:
                role, opened = "opening", True
        out.append(role)
    return out


def align(earlier: Sequence[AlignParagraph], later: Sequence[AlignParagraph], threshold: float,
          weights: AlignWeights = AlignWeights()) -> list[Pair]:
    """Every paragraph of both reports once: kept pairs (延续), then the unpaired (新增 / 未再提及), in the later
    report's order with each 未再提及 after the paragraph that preceded it in the earlier report."""
    matrix = scores(earlier, later, weights)
    kept: dict[int, tuple[int, float]] = {}  # later position -> (earlier position, score)
    if matrix.size:
        # pairs below the threshold can never be kept: they must not pull a keepable pair apart either
        rows, cols = linear_sum_assignment(np.where(matrix >= threshold, matrix, 0.0), maximize=True)
        kept = {int(j): (int(i), float(matrix[i, j])) for i, j in zip(rows, cols) if matrix[i, j] >= threshold}
    paired_earlier = {i for i, _ in kept.values()}
    out: list[Pair] = []
    for j, l in enumerate(later):
        if j in kept:
            i, s = kept[j]
            out.append(Pair(earlier[i].index, l.index, round(s, 4)))
        else:
            out.append(Pair(None, l.index, 0.0))
    dropped = [Pair(e.index, None, 0.0) for i, e in enumerate(earlier) if i not in paired_earlier]
    return _interleave(out, dropped)


def _interleave(pairs: list[Pair], dropped: list[Pair]) -> list[Pair]:
    """Each 未再提及 placed after the last kept pair whose earlier paragraph precedes it (reading order of both)."""
    result = list(pairs)
    for d in dropped:
        at = 0
        for k, p in enumerate(result):
            if p.earlier is not None and p.earlier < d.earlier:
                at = k + 1
        result.insert(at, d)
    return result


MIN_SAME_CHARS = 3  # a shorter run in common between changes is chance (份, 14), not kept wording


def diff(earlier: str, later: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Both texts as segments (text, changed): what the later year reworded, added or dropped, by character."""
    matcher = difflib.SequenceMatcher(None, earlier, later, autojunk=False)
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    ops = matcher.get_opcodes()
    for k, (op, a0, a1, b0, b1) in enumerate(ops):
        inner = 0 < k < len(ops) - 1
        same = op == "equal" and not (inner and a1 - a0 < MIN_SAME_CHARS)
        if a1 > a0:
            _append(left, earlier[a0:a1], not same)
        if b1 > b0:
            _append(right, later[b0:b1], not same)
    return left, right


def _append(segments: list[tuple[str, bool]], text: str, changed: bool) -> None:
    if segments and segments[-1][1] == changed:
        segments[-1] = (segments[-1][0] + text, changed)
    else:
        segments.append((text, changed))
