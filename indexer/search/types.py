"""Request and response types of the Searcher façade (stable: the CLI's --json and the web API use them)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from indexer.core.filters import Filters
from indexer.search.highlight import MARK_WORDS, highlight_html

MODES = ("hybrid", "keyword", "semantic")


class QueryError(ValueError):
    """A request the user can fix. `param` names the offending parameter."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param
        self.message = message


@dataclass(frozen=True)
class SearchRequest:
    query: str
    mode: str = "hybrid"
    filters: Filters = Filters()
    group_by_place: bool = False  # one best hit per place
    page: int = 1
    size: int = 10
    collapse_duplicates: bool = True  # show boilerplate shared by several reports once


@dataclass
class SharedWith:
    """Another document that contains the same (near-identical) paragraph."""

    doc_id: str
    path: str
    place: str
    chunk_id: int


@dataclass
class SharedSentence:
    """A sentence of the hit (where the query matched) that other reports' paragraphs also carry: a stock
    phrase or slogan. Only a mark: those paragraphs differ otherwise and are results of their own."""

    text: str  # the sentence as it stands in this hit
    reports: list[SharedWith]  # the other reports (one paragraph each) among the query's hits


# What a hit matched: the words/phrase as typed; an official term the 口语→公文 expansion added for an
# everyday word the hit lacks (上访 -> 信访); only its meaning (close in meaning, no query word in it).
MATCH_LITERAL, MATCH_OFFICIAL, MATCH_SEMANTIC = "literal", "official", "semantic"
MATCH_KINDS = (MATCH_LITERAL, MATCH_OFFICIAL, MATCH_SEMANTIC)


@dataclass
class Hit:
    chunk_id: int
    doc_id: str
    path: str  # relative to the corpus root
    title: str
    place: str
    region: str
    level: str
    year: int | None
    date: str
    heading_path: list[str]
    section_kind: str
    text: str
    paragraph_index: int
    part: int
    score: float
    keyword_rank: int | None = None  # 1-based rank in the keyword list, None when not retrieved there
    semantic_rank: int | None = None
    keyword_score: float | None = None
    semantic_score: float | None = None
    shared_with: list[SharedWith] = field(default_factory=list)  # reports with the same (near-identical) paragraph
    # "literal": the query's words occur in it; "official": none of them, but an official term the query's
    # everyday words stand for (named in `official_terms`); "semantic": only close in meaning
    match: str = MATCH_LITERAL
    shared_sentence: SharedSentence | None = None
    official_terms: list[str] = field(default_factory=list)  # with match "official": the terms it contains
    # What to mark in `text`: (start, end) character spans, and what they are (highlight.MARK_WORDS: the
    # query's words; MARK_SENTENCE: the sentence closest in meaning). HTML is made from them at the edges.
    spans: list[tuple[int, int]] = field(default_factory=list)
    span_kind: str = MARK_WORDS

    @property
    def highlighted(self) -> str:
        """`text` as escaped HTML with the spans in <mark> (a sentence as <mark class="sem">)."""
        return highlight_html(self.text, self.spans, self.span_kind)

    def to_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: that deep-copies every value and was a fifth of an API request.
        # The JSON keeps its shape: the marks as HTML ("highlighted", after "text"), not the spans.
        data = {}
        for key, value in self.__dict__.items():
            if key not in ("spans", "span_kind"):
                data[key] = value
            if key == "text":
                data["highlighted"] = self.highlighted
        data["chunk_id"] = str(self.chunk_id)
        data["heading_path"] = list(self.heading_path)
        data["shared_with"] = [{"doc_id": s.doc_id, "path": s.path, "place": s.place, "chunk_id": str(s.chunk_id)}
                               for s in self.shared_with]
        if self.shared_sentence is not None:
            data["shared_sentence"] = {"text": self.shared_sentence.text, "reports": [
                {"doc_id": s.doc_id, "path": s.path, "place": s.place, "chunk_id": str(s.chunk_id)}
                for s in self.shared_sentence.reports]}
        return data


@dataclass
class SearchResponse:
    query: str
    mode: str
    total: int  # paragraphs after filters, collapsing copies (and grouping), before pagination
    hits: list[Hit]
    # field -> [(value, count)]: paragraphs matching the query and every *other* field's active filters
    facets: dict[str, list[tuple[str, int]]]
    took_ms: float
    page: int
    size: int
    generation: str
    message: str | None = None  # e.g. how a malformed query was read, no literal match, page out of range
    literal_total: int = 0  # of `total`, those with a literal match (the rest are only close in meaning)
    # True when `total` counts hits only near in meaning: those come from the semantic top k, an estimate
    # (literal and official-term matches are counted exactly).
    total_estimated: bool = False
    official_total: int = 0  # of `total`, those matching only an official term of the query (上访 -> 信访)

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["hits"] = [h.to_dict() for h in self.hits]
        data["facets"] = {k: [{"value": v, "count": c} for v, c in vals] for k, vals in self.facets.items()}
        return data


@dataclass
class ParagraphView:
    index: int
    text: str
    is_heading: bool
    heading_level: int | None
    heading_path: list[str]
    section_kind: str
    chunk_ids: list[int]  # the chunks cut from this paragraph (empty for headings)


@dataclass
class DocumentView:
    doc_id: str
    path: str
    fmt: str
    title: str
    place: str
    level: str
    region: str
    year: int | None
    date: str
    paragraphs: list[ParagraphView]
    other_paths: list[str] = field(default_factory=list)  # identical copies under other names
    # where each metadata field came from and how sure: {"place": "title/high", "year": "meta.csv/high"}
    provenance: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return json_ids(asdict(self))


@dataclass
class ContextView:
    """A chunk with the paragraphs around it, for the "上下文" button."""

    doc_id: str
    chunk_id: int
    paragraph_index: int
    before: list[ParagraphView]
    target: ParagraphView
    after: list[ParagraphView]

    def to_dict(self) -> dict[str, Any]:
        return json_ids(asdict(self))


def json_ids(data: Any) -> Any:
    """`data` with every chunk id as a decimal string: ids are 63-bit and JavaScript's numbers (hence many
    JSON clients) lose precision above 2**53, so a client could not send an id back unchanged."""
    if isinstance(data, dict):
        return {k: (str(v) if k == "chunk_id" and v is not None else [str(i) for i in v] if k == "chunk_ids"
                    else json_ids(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [json_ids(v) for v in data]
    return data
