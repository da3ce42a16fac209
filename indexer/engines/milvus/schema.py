"""Collection layout, names and aliases.

Two collections make one published snapshot:
- chunks (`<base>_chunks_<stamp>`): one row per chunk, INT64 pk = our chunk id, the facet values copied from
  its document (Milvus has no joins, and filters must run inside the search), the raw text, the `tokens`
  field (see tokens.py) feeding a BM25 function into `sparse`, and the dense `vector` (HNSW, COSINE).
- documents (`<base>_docs_<stamp>`): the catalog's document rows, needed by searchers on other machines
  (document view, titles, paths). The paragraphs JSON of one report can exceed Milvus's 65,535-byte VARCHAR
  limit, so a document is stored as numbered parts (`part_key`), the metadata and the document's hash on part
  0, which is written last and so marks the document as committed. Milvus requires
  a vector field in every collection; `stub` is a 2-d constant (the smallest dimension Milvus accepts) that
  is never searched.

Publishing: the alias `<base>` points at the chunks collection; its documents collection has the same stamp
(`docs_of`), and holds the build settings (model, dims, generation) as one extra row `INFO_KEY` (Milvus Lite
drops collection descriptions and properties, so they cannot carry it). Swapping one alias is atomic, so a reader that
resolves the alias always gets a matching pair — the analogue of our CURRENT rename.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

STUB_DIM = 2
MAX_VARCHAR = 65535
# Bump when the layout or a row's hash changes: a published pair of another version is rebuilt (--full).
# 3: compact tokens (tokens.py), the chunk's sentence vectors (`sentences`), the layout options (Layout).
# 4: the chunk's character bigrams (`grams` -> BM25 -> `gsparse`): exact strings found through an index (lookup.py).
SCHEMA_VERSION = "4"
HASH_LEN = 40  # sha1 hex: every chunk row and every document's part 0 carry the hash of what they hold
DOC_PART_BYTES = 60000  # below MAX_VARCHAR with room for multi-byte splitting
NONE_INT = -1  # Milvus Lite has no nullable scalars in every version: year / dup_group None is stored as -1

CHUNK_FIELDS = ["id", "doc_id", "path", "title", "place", "region", "level", "year", "kind", "heading",
                "paragraph", "part", "dup_group", "text"]
# VARCHAR fields and their max_length. A Milvus server counts max_length in UTF-8 bytes, Lite 3.2.2 in
# characters: sync.py checks the byte length before writing, so both behave like a server.
CHUNK_VARCHARS = {"doc_id": 256, "path": 4096, "title": 2048, "place": 512, "region": 512, "level": 64, "kind": 64,
                  "heading": 8192, "h": HASH_LEN, "text": MAX_VARCHAR, "tokens": MAX_VARCHAR,
                  "sentences": MAX_VARCHAR, "grams": MAX_VARCHAR}
DOC_VARCHARS = {"key": 300, "doc_id": 256, "h": HASH_LEN, "path": 4096, "row": MAX_VARCHAR, "paragraphs": MAX_VARCHAR}

FACT_FIELDS = ["id", "doc_id", "dup_group", "place", "level", "region", "year", "kind"]


VECTOR_INDEXES = ("hnsw", "hnsw_sq8")
PARTITION_KEYS = ("year", "region", "")


@dataclass(frozen=True)
class Layout:
    """The storage choices an operator makes for the chunks collection (`[engine.milvus]`); a published pair
    with other choices is rebuilt (sync.py), since neither can be changed on a collection in place.

    - `vector_index`: "hnsw" (float32 vectors in the graph) or "hnsw_sq8" (Milvus's HNSW_SQ with 8-bit scalar
      quantisation: the in-memory index ~1/4 of the float32 one on a server; the raw vectors stay stored for
      the exact filtered path). Milvus Lite 3.2.2 accepts and searches HNSW_SQ; recall measured in
      docs/milvus.md ("Storage layout").
    - `partition_key`: the field Milvus hashes rows into partitions by ("" = none). A filter on it is searched
      in its partitions only: `year` (the default; see docs/milvus.md "Partitioning" for why not region)."""

    vector_index: str = "hnsw"
    partition_key: str = ""

    def __post_init__(self):
        if self.vector_index not in VECTOR_INDEXES:
            raise ValueError(f"setting engine.milvus.vector_index: {self.vector_index!r} is not one of "
                             f"{', '.join(VECTOR_INDEXES)}")
        if self.partition_key not in PARTITION_KEYS:
            raise ValueError(f"setting engine.milvus.partition_key: {self.partition_key!r} is not one of "
                             "year, region or \"\" (none)")

    def describe(self) -> str:
        """What the settings row records, to notice a change of layout."""
        return f"{self.vector_index}|{self.partition_key or '-'}"


def chunks_name(base: str, stamp: str) -> str:
    return f"{base}_chunks_{stamp}"


def docs_name(base: str, stamp: str) -> str:
    return f"{base}_docs_{stamp}"


INFO_KEY = "#info"  # the documents collection's settings row (doc_id "", n -1)


def docs_of(chunks: str) -> str:
    """The documents collection paired with a chunks collection."""
    base, _, stamp = chunks.rpartition("_chunks_")
    return docs_name(base, stamp)


def chunk_schema(client, dim: int, layout: Layout = Layout()):
    from pymilvus import DataType, Function, FunctionType

    s = client.create_schema(auto_id=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    for name, length in CHUNK_VARCHARS.items():  # `h`: the hash of every other field (sync.py's diff)
        if name not in ("text", "tokens", "sentences", "grams"):
            s.add_field(name, DataType.VARCHAR, max_length=length, is_partition_key=name == layout.partition_key)
    for name in ("year", "paragraph", "part", "dup_group"):
        s.add_field(name, DataType.INT64, is_partition_key=name == layout.partition_key)
    s.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    s.add_field("sentences", DataType.VARCHAR, max_length=MAX_VARCHAR)  # pack_sentences(); "" = none
    # `standard` keeps each token whole (tokens.py: ASCII letters and digits); every Milvus has it.
    s.add_field("tokens", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                analyzer_params={"tokenizer": "standard"})
    # The text's character bigrams (tokens.text_grams). Lite 3.2.2 has no index for `like "%…%"` (NGRAM: "not
    # implemented") and evaluates `text_match` by scanning (slower than LIKE, measured in docs/milvus.md); a BM25
    # function's sparse index is the one inverted index it has, so the bigrams go through one. Never ranked.
    s.add_field("grams", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                analyzer_params={"tokenizer": "standard"})
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("gsparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    s.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["tokens"],
                            output_field_names=["sparse"]))
    s.add_function(Function(name="grams_bm25", function_type=FunctionType.BM25, input_field_names=["grams"],
                            output_field_names=["gsparse"]))
    return s


HNSW_PARAMS = {"M": 32, "efConstruction": 200}
# Every field a filter, a fetch by value or the diff selects on. INVERTED, the one scalar index Lite 3.2.2
# builds ("STL_SORT is not implemented; supported: INVERTED"; BITMAP the same); on a server INVERTED serves
# `==` and `in` on strings and integers alike, which is every expression expr.py writes.
SCALAR_INDEXED = ("doc_id", "place", "region", "level", "kind", "year", "dup_group")


def chunk_index_params(client, layout: Layout = Layout()):
    ip = client.prepare_index_params()
    ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    ip.add_index("gsparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    if layout.vector_index == "hnsw_sq8":
        ip.add_index("vector", index_type="HNSW_SQ", metric_type="COSINE", params=HNSW_PARAMS | {"sq_type": "SQ8"})
    else:
        ip.add_index("vector", index_type="HNSW", metric_type="COSINE", params=HNSW_PARAMS)
    for name in SCALAR_INDEXED:
        ip.add_index(name, index_type="INVERTED")
    return ip


def doc_schema(client):
    from pymilvus import DataType

    s = client.create_schema(auto_id=False)
    s.add_field("key", DataType.VARCHAR, is_primary=True, max_length=DOC_VARCHARS["key"])  # part_key()
    s.add_field("doc_id", DataType.VARCHAR, max_length=DOC_VARCHARS["doc_id"])
    s.add_field("n", DataType.INT64)  # part number; part 0 is the document's commit mark
    s.add_field("parts", DataType.INT64)  # how many parts the document has (on every part)
    s.add_field("h", DataType.VARCHAR, max_length=HASH_LEN)  # hash of the document's record + paragraphs
    s.add_field("path", DataType.VARCHAR, max_length=DOC_VARCHARS["path"])  # part 0: `show <path>` finds it
    s.add_field("row", DataType.VARCHAR, max_length=MAX_VARCHAR)  # part 0: the DocRow + aliases, JSON
    s.add_field("paragraphs", DataType.VARCHAR, max_length=MAX_VARCHAR)  # a slice of the paragraphs JSON
    s.add_field("stub", DataType.FLOAT_VECTOR, dim=STUB_DIM)
    return s


def doc_index_params(client):
    ip = client.prepare_index_params()
    ip.add_index("stub", index_type="FLAT", metric_type="L2")
    ip.add_index("doc_id", index_type="INVERTED")
    ip.add_index("path", index_type="INVERTED")
    return ip


def part_key(doc_id: str, n: int, h: str) -> str:
    """Primary key of a document's part. Part 0 (the metadata row, the commit mark) has one fixed key; the
    other parts are keyed by the document's hash, so a changed document's new parts are written beside the
    old ones and part 0, written last, says which set is current (no reader ever mixes two versions)."""
    return f"{doc_id}#0" if n == 0 else f"{doc_id}#{h[:16]}#{n}"


def split_utf8(text: str, size: int = DOC_PART_BYTES) -> list[str]:
    """`text` in pieces of at most `size` UTF-8 bytes, never cutting a character."""
    parts, current, used = [], [], 0
    for ch in text:
        n = len(ch.encode("utf-8"))
        if used + n > size:
            parts.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += n
    parts.append("".join(current))
    return parts


def pack_sentences(matrix: np.ndarray | None) -> str:
    """A chunk's sentence vectors (rows, as the local generation stores them: float16,
    storage/vectors/sentence_vectors.py) as one VARCHAR: base64 of the float16 bytes, 1,366 bytes per 512-d
    sentence. Milvus has no list-of-vectors type that Lite stores, and float16 keeps the very values the local
    engine ranks with. "" for a chunk without sentence vectors (one sentence or less)."""
    if matrix is None or not len(matrix):
        return ""
    return base64.b64encode(np.ascontiguousarray(matrix, dtype="<f2").tobytes()).decode("ascii")


def unpack_sentences(value: str, dim: int) -> np.ndarray | None:
    """The float32 rows `pack_sentences` wrote, or None for ""."""
    if not value:
        return None
    return np.frombuffer(base64.b64decode(value), dtype="<f2").reshape(-1, dim).astype(np.float32)


def sentences_fit(rows: int, dim: int) -> bool:
    """Whether `rows` sentence vectors fit one VARCHAR (47 at 512-d; the corpora measured have at most 11)."""
    return 4 * -(-rows * dim * 2 // 3) <= MAX_VARCHAR
