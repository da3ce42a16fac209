"""Every result of one search as arrays: what it is (literal, official-term, near in meaning) and what the
views fold it by (boilerplate group, place), one row per result.

A very common word matches most of the index (工作: ~16,000 of 100,000 paragraphs). Totals, the literal and
official counts, the estimate flag and the one-hit-per-place / one-copy-per-group folds are all computed here
over the whole exact set as numpy arrays, in microseconds per thousand results; `Fused` objects, chunk facts
and rows are made only for the shown page (searcher.py). Positions index the rows of one `ResultSet`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from indexer.engines.base import NO_GROUP, Snapshot
from indexer.search.retrieve import Retrieval

_DENSE = 8  # keys spanning at most this many values per key (plus a million) are looked up in a table
Fold = Callable[[np.ndarray], np.ndarray]  # positions in list order -> the positions the view keeps, in order


@dataclass
class ResultSet:
    ids: np.ndarray  # every result the snapshot has, in `Retrieval.unranked_ids` order
    literal: np.ndarray  # bool: matches the query as typed
    official: np.ndarray  # bool: holds an added official term (and is not literal)
    near: np.ndarray  # bool: only near in meaning (or a ranked keyword hit of a longer query): an estimate
    group: np.ndarray  # boilerplate group, NO_GROUP for none
    place: np.ndarray  # place code (engines/base.py FoldKeys)
    _lookup: tuple[int | None, np.ndarray] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, snap: Snapshot, found: Retrieval) -> "ResultSet":
        ids = found.unranked_ids()
        keys = snap.fold_keys(ids)
        keep = keys.present  # ids the snapshot does not have are no results
        literal, official, near = found.kinds()
        return cls(ids=ids[keep], literal=literal[keep], official=official[keep], near=near[keep],
                   group=keys.group[keep], place=keys.place[keep])

    def __len__(self) -> int:
        return len(self.ids)

    def everything(self) -> np.ndarray:
        return np.arange(len(self.ids))

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """The position of each of these ids, leaving out those that are no result (in their order)."""
        if not len(self.ids) or not len(ids):
            return np.zeros(0, dtype=np.int64)
        lo, table = self._table()
        if lo is None:  # sparse ids: the positions by id order
            sorted_ids = self.ids[table]
            at = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
            return table[at[sorted_ids[at] == ids]]
        at = ids - lo
        found = table[at[(at >= 0) & (at < len(table))]]
        return found[found >= 0]

    def _table(self) -> tuple[int | None, np.ndarray]:
        """(lo, table: id - lo -> position, -1 for no result), made once: chunk ids are dense, so a table
        beats a search; (None, the argsort of the ids) where they are not."""
        if self._lookup is None:
            lo, span = int(self.ids.min()), int(self.ids.max()) - int(self.ids.min()) + 1
            if span > _DENSE * len(self.ids) + (1 << 20):
                self._lookup = None, np.argsort(self.ids)
            else:
                table = np.full(span, -1, dtype=np.int64)
                table[self.ids - lo] = np.arange(len(self.ids))
                self._lookup = lo, table
        return self._lookup

    def fold(self, group_by_place: bool, collapse_duplicates: bool) -> Fold:
        """The view's fold of a result list (one hit per place, one copy per boilerplate group, or none), on
        positions. Applied to a prefix of the ranked list it gives a prefix of the fold of the whole list;
        applied to `everything()` the same number of hits of each kind."""
        if group_by_place:
            # One hit per place (a document without a known place is its own place): its best-ranked literal
            # match where it has one (every place with one among all results is listed), else its
            # best-ranked hit (an official term, or near in meaning); in the order of the chosen hits.
            literal_places = self.place[self.literal]

            def best_per_place(pos: np.ndarray) -> np.ndarray:
                pos = pos[self.literal[pos] | ~np.isin(self.place[pos], literal_places)]
                return pos[_first_of_each(self.place[pos])]
            return best_per_place
        if collapse_duplicates:
            # The best-ranked copy of each boilerplate group (near-identical paragraphs of several reports)
            # stands for it; who else has it is listed on the shown hit (shared.list_group_members).
            def one_copy_per_group(pos: np.ndarray) -> np.ndarray:
                groups = self.group[pos]
                return pos[(groups == NO_GROUP) | _first_of_each(groups)]
            return one_copy_per_group
        return lambda pos: pos

    def literal_only(self, pos: np.ndarray) -> np.ndarray:
        return pos[self.literal[pos]]

    def ranked_head(self, found: Retrieval, fold: Fold, need: int) -> np.ndarray:
        """The shortest prefix of the ranked results (positions) tried, ranking the tail deeper each time,
        whose fold holds `need` hits; the whole list when it has fewer."""
        tail: int | None = 0
        while True:
            head = self.positions(found.head_ids(tail))
            if len(fold(head)) >= need or tail is None:
                return head
            tail = max(64, 4 * tail, need) if tail < found.tail_size() else None
            if tail is not None and tail >= found.tail_size():
                tail = None


def _first_of_each(keys: np.ndarray) -> np.ndarray:
    """True at the first occurrence of each key."""
    out = np.zeros(len(keys), dtype=bool)
    if not len(keys):
        return out
    lo = int(keys.min())
    span = int(keys.max()) - lo + 1
    if span > _DENSE * len(keys) + (1 << 20):  # sparse keys: sort them (~3x slower than the table)
        out[np.unique(keys, return_index=True)[1]] = True
        return out
    first = np.full(span, len(keys), dtype=np.int64)
    np.minimum.at(first, keys - lo, np.arange(len(keys)))
    out[first[first < len(keys)]] = True
    return out
