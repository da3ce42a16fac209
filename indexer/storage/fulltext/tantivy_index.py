"""FullTextIndex on tantivy (Rust, via the `tantivy` wheel). Everything tantivy-specific lives here.

Same fields, query semantics and weights (ranking.py) as the Whoosh backend (whoosh_index.py), so the two
rank alike:
- `body` (chunk text) and `context` (heading path + title, weighted `ranking.context_boost`) hold *our* jieba tokens,
  joined by spaces and split again by tantivy's whitespace tokenizer: index and query see exactly the words
  of indexer.core.analysis.  Phrases never use word positions here (the grams field decides them), so
  these fields keep term frequencies only (smaller, faster).
- `grams` holds the text's character bigrams with positions: a quoted phrase matches exactly the chunks
  whose text contains it, as in the Whoosh backend.
- `chunk_id` is an indexed u64 fast field: deletes address it, and hits read it from the column without
  loading stored documents (nothing is stored).
- filter fields use the raw tokenizer (exact match).
Why tantivy: top-k retrieval with block-max WAND in native code.  On a very common word (`工作`) it scores
only the blocks that can still enter the top k, where pure-Python Whoosh scores every posting.

Files: tantivy never changes a segment file after writing it, and replaces meta.json atomically, so a
hard-linked copy (`clone`) can be written to without touching the original.  Lock files are skipped.
"""
from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path
from typing import Iterable

import tantivy
from tantivy import Occur, Query

from indexer.core.analysis import char_grams, get_analyzer, phrase_grams
from indexer.storage.fulltext.base import AnalyzerConfig, FullTextIndex, FullTextRecord, link_files
from indexer.storage.fulltext.ranking import FILTER_FIELDS, ScoringReader
from indexer.core.config import RankingSettings
from indexer.core.filters import Filters
from indexer.core.querytree import ParsedQuery

log = logging.getLogger(__name__)

ANALYZER_FILE = "reportsearch-analyzer.json"  # our marker: which dictionary the tokens came from
WRITER_HEAP = 256_000_000  # bytes; more heap = fewer segments to merge at 100k+ chunks


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_unsigned_field("chunk_id", stored=False, indexed=True, fast=True)
    b.add_text_field("doc_id", tokenizer_name="raw", index_option="basic")
    b.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
    b.add_text_field("context", tokenizer_name="whitespace", index_option="freq")
    b.add_text_field("grams", tokenizer_name="whitespace", index_option="position")
    for name in FILTER_FIELDS:
        b.add_text_field(name, tokenizer_name="raw", index_option="basic")
    return b.build()


class TantivyIndex(FullTextIndex):
    def __init__(self, ix: tantivy.Index, directory: Path, analyzer_config: AnalyzerConfig):
        self._ix = ix
        self.directory = directory
        self._config = analyzer_config
        self._schema = ix.schema
        self._writer: tantivy.IndexWriter | None = None
        self._write_lock = threading.Lock()
        self._searcher = ix.searcher()  # thread-safe; replaced on commit
        # While a new index has never been committed, an id can only be present if staged in this session:
        # a full build then skips the per-record delete that `add` needs to replace.
        self._fresh = False
        self._staged: set[int] = set()

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def create(cls, directory: Path, analyzer_config: AnalyzerConfig = AnalyzerConfig()) -> "TantivyIndex":
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if (directory / ANALYZER_FILE).exists() or tantivy.Index.exists(str(directory)):
            raise FileExistsError(f"{directory} already holds a full-text index")
        ix = tantivy.Index(_schema(), path=str(directory), reuse=False)
        config = {"user_dict": str(analyzer_config.user_dict) if analyzer_config.user_dict else None,
                  "subwords": analyzer_config.subwords}
        (directory / ANALYZER_FILE).write_text(json.dumps(config), encoding="utf-8")
        index = cls(ix, directory, analyzer_config)
        index._fresh = True
        return index

    @classmethod
    def open(cls, directory: Path) -> "TantivyIndex":
        directory = Path(directory)
        marker = directory / ANALYZER_FILE
        if not marker.exists() or not tantivy.Index.exists(str(directory)):
            raise FileNotFoundError(f"no full-text index in {directory}")
        data = json.loads(marker.read_text(encoding="utf-8"))
        config = AnalyzerConfig(Path(data["user_dict"]) if data.get("user_dict") else None, data.get("subwords", True))
        return cls(tantivy.Index.open(str(directory)), directory, config)

    @classmethod
    def clone(cls, src: Path, dst: Path) -> None:
        src, dst = Path(src), Path(dst)
        if not (src / ANALYZER_FILE).exists():
            raise FileNotFoundError(f"no full-text index in {src}")
        link_files(src, dst, lambda name: name.endswith(".lock"))  # lock files are opened in place by a writer

    @property
    def analyzer_config(self) -> AnalyzerConfig:
        return self._config

    def close(self) -> None:
        with self._write_lock:
            if self._writer is not None:
                self._writer.rollback()
                self._writer = None

    # ------------------------------------------------------------ writing

    def _get_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            self._writer = self._ix.writer(heap_size=WRITER_HEAP, num_threads=1)
        return self._writer

    def add(self, records: Iterable[FullTextRecord]) -> int:
        analyzer = get_analyzer(self._config.user_dict, self._config.subwords)
        n = 0
        with self._write_lock:
            writer = self._get_writer()
            for r in records:
                doc = tantivy.Document()
                doc.add_unsigned("chunk_id", r.chunk_id)
                doc.add_text("doc_id", r.doc_id)
                doc.add_text("body", " ".join(t.text for t in analyzer.tokenize(r.text)))
                doc.add_text("context", " ".join(t.text for t in analyzer.tokenize(r.context)))
                doc.add_text("grams", " ".join(char_grams(r.text)))
                for name, value in r.filter_values().items():
                    doc.add_text(name, value)
                if not self._fresh or r.chunk_id in self._staged:
                    self._delete(writer, r.chunk_id)  # replaces: a delete applies to earlier adds only
                if self._fresh:
                    self._staged.add(r.chunk_id)
                writer.add_document(doc)
                n += 1
        return n

    def delete(self, chunk_ids: Iterable[int]) -> None:
        with self._write_lock:
            writer = self._get_writer()
            for cid in chunk_ids:
                self._delete(writer, int(cid))

    def _delete(self, writer: tantivy.IndexWriter, chunk_id: int) -> None:
        # By query: this binding turns a Python int into an i64 term for delete-by-term, which never matches
        # the u64 field.
        writer.delete_documents_by_query(Query.term_query(self._schema, "chunk_id", chunk_id))

    def commit(self) -> None:
        with self._write_lock:
            if self._writer is None:
                return
            self._writer.commit()
            self._writer.wait_merging_threads()  # consumes the writer: merges finish before anyone clones
            self._writer = None
            self._fresh = False
            self._staged.clear()
        self._ix.reload()
        self._searcher = self._ix.searcher()

    # ------------------------------------------------------------ reading

    def count(self) -> int:
        return int(self._searcher.num_docs)

    def _query(self, query: ParsedQuery, filters: Filters) -> Query | None:
        q = _TantivyReader(self._schema, self.weights).read(query.root)
        if q is None:
            return None
        fq = _filter_query(self._schema, filters)
        if fq is not None:
            q = Query.boolean_query([(Occur.Must, q), (Occur.Must, Query.const_score_query(fq, 0.0))])
        return q

    def match_ids(self, query: ParsedQuery, filters: Filters = Filters()) -> list[int]:
        q = self._query(query, filters)
        searcher = self._searcher
        if q is None or not searcher.num_docs:
            return []
        # Every match: a "top k" as large as the index (the binding has no plain doc-set collector), ordered
        # by the chunk id fast field, which hands out the ids themselves (no scoring, no second lookup).
        hits = searcher.search(q, int(searcher.num_docs), count=False, order_by_field="chunk_id").hits
        return [cid for cid, _ in hits]

    def search(self, query: ParsedQuery, limit: int, filters: Filters = Filters()) -> list[tuple[int, float]]:
        if limit <= 0:
            return []
        q = self._query(query, filters)
        if q is None:
            return []
        searcher = self._searcher
        hits = searcher.search(q, limit, count=False).hits
        if not hits:
            return []
        ids = searcher.fast_field_values("chunk_id", [addr for _, addr in hits])
        return [(int(cid), float(score)) for (score, _), cid in zip(hits, ids)]


# ---------------------------------------------------------------- query translation


class _TantivyReader(ScoringReader["Query | None"]):
    """The query tree as a tantivy query (what each node means: core/querytree.QueryReader); None matches
    nothing (tantivy has no empty query)."""

    def __init__(self, schema: tantivy.Schema, weights: RankingSettings):
        super().__init__(weights)
        self.schema = schema

    def word(self, word: str) -> Query:
        return Query.boolean_query([
            (Occur.Should, Query.term_query(self.schema, "body", word, index_option="freq")),
            (Occur.Should, Query.boost_query(
                Query.term_query(self.schema, "context", word, index_option="freq"), self.weights.context_boost)),
        ])

    def exact(self, text: str, boost: float) -> Query | None:
        grams = phrase_grams(text)
        if not grams:
            return None
        if len(grams) > 1:
            exact = Query.phrase_query(self.schema, "grams", grams)
        elif len(grams[0]) == 2:
            exact = Query.term_query(self.schema, "grams", grams[0])
        else:  # one character: any gram that starts with it
            exact = Query.regex_query(self.schema, "grams", re.escape(grams[0]) + ".?")
        return Query.boost_query(exact, boost)

    def all_of(self, parts: list[Query | None]) -> Query | None:
        return None if any(q is None for q in parts) else _and(parts)  # a required part matching nothing

    def any_of(self, parts: list[Query | None]) -> Query | None:
        kept = [q for q in parts if q is not None]
        return _or(kept) if kept else None

    def ranked_by(self, base: Query | None, extra: Query | None) -> Query | None:
        if base is None or extra is None:
            return base
        return Query.boolean_query([(Occur.Must, base), (Occur.Should, extra)])

    def boost(self, part: Query | None, factor: float) -> Query | None:
        return None if part is None else Query.boost_query(part, factor)

    def everything(self) -> Query:
        return Query.all_query()

    def nothing(self) -> None:
        return None

    def excluding(self, base: Query | None, excluded: Query | None) -> Query | None:
        if base is None or excluded is None:
            return base
        return Query.boolean_query([(Occur.Must, base), (Occur.MustNot, excluded)])

    def boolean(self, must: list[Query | None], should: list[Query | None],
                must_not: list[Query | None]) -> Query | None:
        # One flat boolean query (its clauses' scores add up, as in the Whoosh form), with tantivy's rules.
        if any(m is None for m in must):  # a required part that can match nothing
            return None
        kept = [s for s in should if s is not None]
        if should and not kept and not must:
            return None
        clauses = [(Occur.Must, m) for m in must] + [(Occur.Should, s) for s in kept]
        if not clauses:
            clauses = [(Occur.Must, Query.all_query())]
        not_ = [q for q in must_not if q is not None]
        if not not_ and len(clauses) == 1 and clauses[0][0] in (Occur.Must, Occur.Should):
            return clauses[0][1]
        if not_ and not must and kept:
            # tantivy's Should-only clauses are optional once a MustNot is present: require one of them.
            clauses = [(Occur.Must, _or(kept))]
        return Query.boolean_query(clauses + [(Occur.MustNot, q) for q in not_])


def _and(qs: list[Query]) -> Query:
    return qs[0] if len(qs) == 1 else Query.boolean_query([(Occur.Must, q) for q in qs])


def _or(qs: list[Query]) -> Query:
    return qs[0] if len(qs) == 1 else Query.boolean_query([(Occur.Should, q) for q in qs])


def _filter_query(schema: tantivy.Schema, filters: Filters) -> Query | None:
    if filters.is_empty():
        return None
    clauses = []
    for name in FILTER_FIELDS:
        values = getattr(filters, name)
        if values:
            clauses.append(_or([Query.term_query(schema, name, str(v), index_option="basic") for v in values]))
    return _and(clauses)
