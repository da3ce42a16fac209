"""Figures as columns (issue 30, the 数据 page's cost): every figure of a set of chunks in reading order (place,
year, document, paragraph, position), with the arrays a figures table is selected, counted and sorted by, and
the rows' own values kept for the few rows a page shows.

A local generation loads its whole figures table this way once (`LocalSnapshot.figure_columns`: ~25,000
figures at 100k chunks, well under a second and a few MB), so a query's table is array work over it instead of
reading figure, chunk and document rows per query. An engine that stores no figures (Milvus derives them from
the chunk text) builds the same columns from the rows of one query's chunks (`from_rows`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from indexer.storage.catalog import ChunkRow, DocRow
from indexer.storage.catalog_rows import FigureRow


@dataclass(frozen=True, slots=True)
class FigureChunk:
    """What a figure's row shows of its paragraph (its text is kept only as the figures' sentences)."""

    chunk_id: int
    doc: int  # index in FigureColumns.docs
    paragraph_index: int
    heading_path: tuple[str, ...]


@dataclass(frozen=True)
class FigureColumns:
    figures: list[FigureRow]  # in reading order; the arrays below are aligned with it
    sentences: list[str]  # each figure's sentence (its chunk's text between sentence_start and sentence_end)
    chunks: list[FigureChunk]  # each figure's paragraph
    docs: list[DocRow]
    chunk_ids: np.ndarray  # int64
    measures: list[str]  # distinct measures; code 0 is "" (a figure without a measure)
    measure_codes: np.ndarray  # int32 into `measures`
    values: np.ndarray  # float64
    place_rank: np.ndarray  # int32: the order of the figure's place (as strings compare)
    year_rank: np.ndarray  # int32: the order of the figure's year (a report without one last)
    with_figures: np.ndarray  # int64: the chunks that have figures, ascending
    slot: np.ndarray  # int64: each figure's chunk, as its position in `with_figures`

    def __len__(self) -> int:
        return len(self.figures)

    def rows_of(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Positions (in reading order) of the figures of these chunks."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(self.figures) or not len(ids):
            return np.zeros(0, dtype=np.int64)
        # a lookup into the (fewer) chunks with figures: np.isin sorts both sides on every call
        at = np.minimum(np.searchsorted(self.with_figures, ids), len(self.with_figures) - 1)
        asked = np.zeros(len(self.with_figures), dtype=bool)
        asked[at[self.with_figures[at] == ids]] = True
        return np.flatnonzero(asked[self.slot])

    @classmethod
    def from_rows(cls, figures: Mapping[int, Sequence[FigureRow]], chunks: Mapping[int, ChunkRow],
                  docs: Mapping[str, DocRow]) -> FigureColumns:
        """The columns of these figures, given their chunks and those chunks' documents."""
        doc_list = list(docs.values())
        doc_at = {d.doc_id: i for i, d in enumerate(doc_list)}
        keyed: list[tuple[tuple, FigureRow, str, FigureChunk]] = []
        for cid, figs in figures.items():
            c = chunks[cid]
            d = doc_list[doc_at[c.doc_id]]
            chunk = FigureChunk(cid, doc_at[c.doc_id], c.paragraph_index, c.heading_path)
            for f in figs:
                key = (d.meta.place, year_key(d.meta.year), d.path, c.paragraph_index, c.part, f.start)
                keyed.append((key, f, c.text[f.sentence_start:f.sentence_end], chunk))
        keyed.sort(key=lambda k: k[0])  # a total order: a document's path is unique, and so is a figure's start
        rows = [k[1] for k in keyed]
        measures = [""] + sorted({f.measure for f in rows if f.measure})
        code = {m: i for i, m in enumerate(measures)}
        places = sorted({k[0][0] for k in keyed})
        years = sorted({k[0][1] for k in keyed})
        place_at, year_at = {p: i for i, p in enumerate(places)}, {y: i for i, y in enumerate(years)}
        n = len(rows)
        chunk_ids = np.fromiter((f.chunk_id for f in rows), dtype=np.int64, count=n)
        with_figures, slot = np.unique(chunk_ids, return_inverse=True)
        return cls(
            figures=rows, sentences=[k[2] for k in keyed], chunks=[k[3] for k in keyed], docs=doc_list,
            chunk_ids=chunk_ids, with_figures=with_figures, slot=slot.reshape(-1).astype(np.int64),
            measures=measures, measure_codes=np.fromiter((code[f.measure] for f in rows), dtype=np.int32, count=n),
            values=np.fromiter((f.value for f in rows), dtype=np.float64, count=n),
            place_rank=np.fromiter((place_at[k[0][0]] for k in keyed), dtype=np.int32, count=n),
            year_rank=np.fromiter((year_at[k[0][1]] for k in keyed), dtype=np.int32, count=n),
        )


def year_key(year: int | None) -> tuple[bool, int]:
    return (year is None, year or 0)  # a report whose year nobody could tell comes last
