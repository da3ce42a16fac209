"""FullTextIndex on Whoosh (whoosh-reloaded). Everything Whoosh-specific lives in this module.

Fields: `body` (the chunk text) and `context` (heading path + title, weighted lower) are analysed by
our jieba analyzer and carry the ranking; `grams` holds the chunk text's character bigrams, so a
quoted phrase matches exactly the chunks whose text contains it (punctuation and spaces aside)
whatever jieba does with its neighbours -- word-level phrases missed most phrases that do not start
and end at jieba's word boundaries (measured on the sample corpus); the facet fields
(ranking.FILTER_FIELDS) and `doc_id` are exact-match IDs for filters; `chunk_id` is an unstored numeric
key with a column, so a hit's id is read from the column without loading stored fields.

Files: Whoosh only ever creates new files (segments with random names, a new `_MAIN_<n>.toc` written
under a temporary name and renamed) and deletes old ones; deletions are recorded in the new TOC.
So a hard-linked copy of a committed index can be written to without touching the original
(`clone`, tested in tests/quick/test_fulltext.py).  The lock file is the one file opened for writing in
place, so `clone` never links it.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Iterable, Iterator

from whoosh import collectors
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.matching import NullMatcher
from whoosh.query.compound import DefaultOr
from whoosh.analysis import Analyzer as WhooshAnalyzer
from whoosh.analysis import Token as WhooshToken
from whoosh.fields import ID, NUMERIC, TEXT, Schema
from whoosh.scoring import BM25F

from indexer.core.analysis import Analyzer, char_grams, get_analyzer, phrase_grams
from indexer.storage.fulltext.base import AnalyzerConfig, FullTextIndex, FullTextRecord, link_files
from indexer.storage.fulltext.ranking import FILTER_FIELDS, ScoringReader
from indexer.core.filters import Filters
from indexer.core.querytree import ParsedQuery

log = logging.getLogger(__name__)

INDEX_NAME = "MAIN"


class JiebaWhooshAnalyzer(WhooshAnalyzer):
    """Whoosh adapter for indexer.core.analysis.Analyzer.

    Pickled into the index's TOC by Whoosh, so it keeps only its configuration and finds the
    (process-wide, lazily loaded) jieba analyzer again after unpickling.
    """

    def __init__(self, user_dict: str | None = None, subwords: bool = True):
        self.user_dict = user_dict
        self.subwords = subwords

    def __getstate__(self) -> dict:
        return {"user_dict": self.user_dict, "subwords": self.subwords}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaWhooshAnalyzer) and self.__getstate__() == other.__getstate__()

    def __hash__(self) -> int:
        return hash((self.user_dict, self.subwords))

    @property
    def analyzer(self) -> Analyzer:
        return get_analyzer(Path(self.user_dict) if self.user_dict else None, self.subwords)

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, mode: str = "", **kwargs) -> Iterator[WhooshToken]:
        token = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for t in self.analyzer.tokenize(value):
            token.text = t.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = t.text
            if positions:
                token.pos = start_pos + t.pos
            if chars:
                token.startchar = start_char + t.start
                token.endchar = start_char + t.end
            yield token


class GramWhooshAnalyzer(WhooshAnalyzer):
    """Character bigrams at consecutive positions (see analysis.char_grams); stateless."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GramWhooshAnalyzer)

    def __hash__(self) -> int:
        return hash(GramWhooshAnalyzer)

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, mode: str = "", **kwargs) -> Iterator[WhooshToken]:
        token = WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for i, gram in enumerate(char_grams(value)):
            token.text = gram
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = gram
            if positions:
                token.pos = start_pos + i
            yield token


def _schema(config: AnalyzerConfig) -> Schema:
    analyzer = JiebaWhooshAnalyzer(str(config.user_dict) if config.user_dict else None, config.subwords)
    return Schema(
        chunk_id=NUMERIC(numtype=int, bits=64, signed=False, unique=True, sortable=True, shift_step=0),
        doc_id=ID,
        body=TEXT(analyzer=analyzer, phrase=True),
        context=TEXT(analyzer=analyzer, phrase=True),
        grams=TEXT(analyzer=GramWhooshAnalyzer(), phrase=True),
        **{name: ID for name in FILTER_FIELDS},
    )


class _ThreadSearcher:
    """A Whoosh searcher plus the chunk_id column, owned by one thread."""

    def __init__(self, ix: whoosh_index.Index, version: int):
        self.version = version
        self.searcher = ix.searcher(weighting=BM25F())
        self.ids = self.searcher.reader().column_reader("chunk_id")

    def close(self) -> None:
        self.searcher.close()


class WhooshIndex(FullTextIndex):
    def __init__(self, ix: whoosh_index.Index, directory: Path):
        self._ix = ix
        self.directory = directory
        self._writer = None
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._searchers: list[_ThreadSearcher] = []  # every thread's searcher, for close()
        self._searchers_lock = threading.Lock()
        self._version = 0  # bumped on commit so threads reopen their searchers

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, directory: Path, analyzer_config: AnalyzerConfig = AnalyzerConfig()) -> "WhooshIndex":
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if whoosh_index.exists_in(str(directory), indexname=INDEX_NAME):
            raise FileExistsError(f"{directory} already holds a full-text index")
        ix = whoosh_index.create_in(str(directory), _schema(analyzer_config), indexname=INDEX_NAME)
        return cls(ix, directory)

    @classmethod
    def open(cls, directory: Path) -> "WhooshIndex":
        directory = Path(directory)
        if not whoosh_index.exists_in(str(directory), indexname=INDEX_NAME):
            raise FileNotFoundError(f"no full-text index in {directory}")
        return cls(whoosh_index.open_dir(str(directory), indexname=INDEX_NAME), directory)

    @classmethod
    def clone(cls, src: Path, dst: Path) -> None:
        src, dst = Path(src), Path(dst)
        if not whoosh_index.exists_in(str(src), indexname=INDEX_NAME):
            raise FileNotFoundError(f"no full-text index in {src}")
        # Lock files are opened in place; "x.toc.<time>" are a crashed writer's temporary TOCs.
        link_files(src, dst, lambda name: name.endswith("_LOCK") or ".toc." in name)

    @property
    def analyzer_config(self) -> AnalyzerConfig:
        analyzer = self._ix.schema["body"].analyzer
        return AnalyzerConfig(Path(analyzer.user_dict) if analyzer.user_dict else None, analyzer.subwords)

    def close(self) -> None:
        with self._write_lock:
            if self._writer is not None:
                self._writer.cancel()
                self._writer = None
        with self._searchers_lock:
            for ts in self._searchers:
                ts.close()
            self._searchers.clear()
            self._version += 1
        self._ix.close()

    # ------------------------------------------------------------ writing

    def _get_writer(self):
        if self._writer is None:
            self._writer = self._ix.writer(limitmb=128)
        return self._writer

    def add(self, records: Iterable[FullTextRecord]) -> int:
        n = 0
        with self._write_lock:
            writer = self._get_writer()
            for r in records:
                writer.update_document(
                    chunk_id=r.chunk_id,
                    doc_id=r.doc_id,
                    body=r.text,
                    grams=r.text,
                    context=r.context,
                    **r.filter_values(),
                )
                n += 1
        return n

    def delete(self, chunk_ids: Iterable[int]) -> None:
        with self._write_lock:
            writer = self._get_writer()
            for cid in chunk_ids:
                writer.delete_by_term("chunk_id", int(cid))

    def commit(self) -> None:
        with self._write_lock:
            if self._writer is None:
                return
            self._writer.commit()
            self._writer = None
        self._ix = whoosh_index.open_dir(str(self.directory), indexname=INDEX_NAME)
        with self._searchers_lock:
            self._version += 1

    # ------------------------------------------------------------ reading

    def _searcher(self) -> _ThreadSearcher:
        ts: _ThreadSearcher | None = getattr(self._local, "searcher", None)
        if ts is not None and ts.version == self._version:
            return ts
        with self._searchers_lock:
            if ts is not None:
                ts.close()
                self._searchers.remove(ts)
            ts = _ThreadSearcher(self._ix, self._version)
            self._searchers.append(ts)
        self._local.searcher = ts
        return ts

    def count(self) -> int:
        return self._searcher().searcher.doc_count()

    def search(self, query: ParsedQuery, limit: int, filters: Filters = Filters()) -> list[tuple[int, float]]:
        if limit <= 0:
            return []
        ts = self._searcher()
        q = _WhooshReader(self.weights).read(query.root)
        top = _top_collector(limit, ts.searcher.doc_count())
        results = _run(ts.searcher, q, top, filters)
        ids = ts.ids
        return [(int(ids[docnum]), float(score)) for score, docnum in results.top_n]

    def match_ids(self, query: ParsedQuery, filters: Filters = Filters()) -> list[int]:
        ts = self._searcher()
        results = _run(ts.searcher, _WhooshReader(self.weights).read(query.root), _AllMatches(), filters)
        ids = ts.ids
        return [int(ids[docnum]) for docnum in results.docs()]


# ---------------------------------------------------------------- collectors
# Whoosh's collectors re-plan the matcher tree (`Matcher.replace`) every 10 documents and at every rise of the
# k-th best score, and each re-plan walks the whole tree, asking every OR node for its parts' score bounds
# again. Our trees are deep: a pasted sentence is a median of 45 leaves, up to ~90 (its words on two fields, its
# sub-words, the bigrams of its exact phrase), and on 10k chunks the re-plans were most of its time (keyword mode
# p50 ~1 s -> 240-267 ms CPU; the unscored literal set alone was 0.5 s a sentence), for the same hits and scores
# (docs/benchmarks.md, "A pasted sentence on Whoosh"). So neither collector re-plans: the scored one scores every match (it did not skip
# blocks by quality either: that needs the re-plans), the literal set steps through its postings.

class _AllMatches(collectors.UnsortedCollector):
    """Every matching document, unscored (Whoosh's `Matcher.all_ids` re-plans every 10 documents)."""

    def matches(self):
        return self._step_through_matches()


def _top_collector(limit: int, doc_count: int) -> collectors.ScoredCollector:
    top = collectors.UnlimitedCollector() if limit >= doc_count else collectors.TopCollector(limit, usequality=False)
    top.replace = 0
    return top


def _run(searcher, q: wq.Query, collector: collectors.Collector, filters: Filters):
    """`searcher.search` with our collector (and Whoosh's filter collector for the filters): its Results."""
    allow = _filter_query(filters)
    if allow is not None:
        collector = collectors.FilterCollector(collector, allow, None)
    searcher.search_with_collector(q, collector)
    return collector.results()


# ---------------------------------------------------------------- query translation

# Whoosh's plain `Or` picks, on an index of at most 5000 chunks and under a top-k collector, a matcher
# (ArrayUnionMatcher) whose max_quality() is the *largest* of its parts' bounds although their scores add
# up. The collector's pruning (`Matcher.replace(minscore)`) trusts that bound: once the top k is full it
# turned our ranked OR into "must also match the optional sub-words" or dropped it, and the best chunk --
# e.g. the paragraph a pasted sentence came from -- went missing from limit=200 while limit=None ranked it
# first (issue 24). DefaultOr (a tree of UnionMatchers whose bound is the sum) is what Whoosh uses above
# 5000 chunks anyway; every OR here is one.
_Or = DefaultOr


class _Prefix(wq.Prefix):
    """A prefix query whose expansion is a `_Or` too (wq.Prefix ORs its terms with the plain `Or`)."""

    def matcher(self, searcher, context=None):
        qs = [wq.Term(self.fieldname, t) for t in self._btexts(searcher.reader()) if t]
        if not qs:
            return NullMatcher()
        if len(qs) == 1:
            return qs[0].with_boost(self.boost).matcher(searcher, context)
        if self.constantscore and context:  # as wq.Prefix: the score does not depend on which gram
            context = context.set(weighting=None)
        return _Or(qs, boost=self.boost).matcher(searcher, context)


class _WhooshReader(ScoringReader[wq.Query]):
    """The query tree as a Whoosh query (what each node means: core/querytree.QueryReader)."""

    def word(self, word: str) -> wq.Query:
        return _Or([wq.Term("body", word), wq.Term("context", word, boost=self.weights.context_boost)])

    def exact(self, text: str, boost: float) -> wq.Query:
        grams = phrase_grams(text)
        if not grams:
            return wq.NullQuery
        if len(grams) > 1:
            return wq.Phrase("grams", grams, boost=boost)
        if len(grams[0]) == 2:
            return wq.Term("grams", grams[0], boost=boost)
        return _Prefix("grams", grams[0], boost=boost)  # one character: any gram that starts with it

    def all_of(self, parts: list[wq.Query]) -> wq.Query:
        return _and(parts)

    def any_of(self, parts: list[wq.Query]) -> wq.Query:
        return _or(parts)

    def ranked_by(self, base: wq.Query, extra: wq.Query) -> wq.Query:
        return base if base is wq.NullQuery else wq.AndMaybe(base, extra)

    def boost(self, part: wq.Query, factor: float) -> wq.Query:
        return part.with_boost(part.boost * factor)  # a copy: NullQuery is shared

    def everything(self) -> wq.Query:
        return wq.Every()

    def nothing(self) -> wq.Query:
        return wq.NullQuery

    def excluding(self, base: wq.Query, excluded: wq.Query) -> wq.Query:
        return wq.AndNot(base, excluded)


def _and(qs: list[wq.Query]) -> wq.Query:
    return qs[0] if len(qs) == 1 else wq.And(qs)


def _or(qs: list[wq.Query]) -> wq.Query:
    if not qs:
        return wq.NullQuery
    return qs[0] if len(qs) == 1 else _Or(qs)


def _filter_query(filters: Filters) -> wq.Query | None:
    if filters.is_empty():
        return None
    clauses = []
    for name in FILTER_FIELDS:
        values = getattr(filters, name)
        if values:
            clauses.append(_or([wq.Term(name, str(v)) for v in values]))
    return _and(clauses)
