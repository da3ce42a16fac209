"""Every result of one search as arrays: what it is (literal, official-term, near in meaning) and what the
views fold it by (boilerplate group, place), one row per result.

A very common word matches most of the index (工作: ~16,000 of 100,000 paragraphs). Totals, the literal and
official counts, the estimate flag and the one-hit-per-place / one-copy-per-group folds are all computed here
over the whole exact set as numpy arrays, in microseconds per thousand results; `Fused` objects, chunk facts
and rows are made only for the shown page (searcher.py). Positions index the rows of one `ResultSet`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from indexer.engines.base import NO_GROUP, Snapshot
from indexer.search.retrieve import Retrieval

Fold = Callable[[np.ndarray], np.ndarray]  # positions in list order -> the positions the view keeps, in order


@dataclass(frozen=True)
class ResultSet:
    ids: np.ndarray  # every result the snapshot has, in `Retrieval.unranked_ids` order
    literal: np.ndarray  # bool: matches the query as typed
    official: np.ndarray  # bool: holds an added official term (and is not literal)
    near: np.ndarray  # bool: only near in meaning (or a ranked keyword hit of a longer query): an estimate
    group: np.ndarray  # boilerplate group, NO_GROUP for none
    place: np.ndarray  # place code (engines/base.py FoldKeys)
    _order: np.ndarray  # argsort of ids, to find positions

    @classmethod
    def of(cls, snap: Snapshot, found: Retrieval) -> "ResultSet":
        ids = found.unranked_ids()
        keys = snap.fold_keys(ids)
        ids = ids[keys.present]  # ids the snapshot does not have are no results
        return cls(ids=ids, literal=_member(ids, found.literal), official=_member(ids, found.official),
                   near=_member(ids, found.near), group=keys.group[keys.present], place=keys.place[keys.present],
                   _order=np.argsort(ids, kind="stable"))

    def __len__(self) -> int:
        return len(self.ids)

    def everything(self) -> np.ndarray:
        return np.arange(len(self.ids))

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """The position of each of these ids, leaving out those that are no result (in their order)."""
        if not len(self.ids) or not len(ids):
            return np.zeros(0, dtype=np.int64)
        sorted_ids = self.ids[self._order]
        at = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
        return self._order[at[sorted_ids[at] == ids]]

    def fold(self, group_by_place: bool, collapse_duplicates: bool) -> Fold:
        """The view's fold of a result list (one hit per place, one copy per boilerplate group, or none), on
        positions. Applied to a prefix of the ranked list it gives a prefix of the fold of the whole list;
        applied to `everything()` the same number of hits of each kind."""
        if group_by_place:
            # One hit per place (a document without a known place is its own place): its best-ranked literal
            # match where it has one (every place with one among all results is listed), else its
            # best-ranked hit (an official term, or near in meaning); in the order of the chosen hits.
            literal_places = np.unique(self.place[self.literal])

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


def _member(ids: np.ndarray, wanted: set[int] | dict[int, object]) -> np.ndarray:
    if not wanted:
        return np.zeros(len(ids), dtype=bool)
    return np.isin(ids, np.fromiter(wanted, dtype=np.int64, count=len(wanted)))


def _first_of_each(keys: np.ndarray) -> np.ndarray:
    """True at the first occurrence of each key."""
    first = np.zeros(len(keys), dtype=bool)
    first[np.unique(keys, return_index=True)[1]] = True
    return first
