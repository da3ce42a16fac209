"""Where a paragraph's clause, sentence and quote marks are: found once per paragraph and looked up by bisection,
so that a long paragraph with many figures is not rescanned for each one."""
from __future__ import annotations

from bisect import bisect_left

CLAUSE_BREAKS = ",，；;。：:！!？?\n"
SENTENCE_END = "。；;！!？?\n"
OPEN_QUOTES, CLOSE_QUOTES = "“「『", "”」』"
KINDS = {
    "clause": CLAUSE_BREAKS,  # a measure does not cross these
    "enumeration": CLAUSE_BREAKS + "、",  # nor does the noun after a unit (1名专职法治员、1名…)
    "sentence": SENTENCE_END,
    "open_quote": OPEN_QUOTES,
    "close_quote": CLOSE_QUOTES,
}


class TextMarks:
    def __init__(self, text: str) -> None:
        self.length = len(text)
        self._at = {kind: [i for i, c in enumerate(text) if c in chars] for kind, chars in KINDS.items()}

    def last_before(self, kind: str, pos: int) -> int:
        """The last mark of this kind before `pos`, or -1."""
        marks = self._at[kind]
        i = bisect_left(marks, pos)
        return marks[i - 1] if i else -1

    def first_from(self, kind: str, pos: int) -> int:
        """The first mark of this kind at or after `pos`, or the text's length."""
        marks = self._at[kind]
        i = bisect_left(marks, pos)
        return marks[i] if i < len(marks) else self.length

    def any_between(self, kind: str, start: int, end: int) -> bool:
        return self.first_from(kind, start) < end
