"""Property-based fuzzing of every API parameter and page route (issue 11, acceptance): whatever arrives in
the URL -- odd unicode, non-ASCII digits, deep nesting, huge numbers, invalid UTF-8 -- the answer is a
page or a 4xx naming the problem, never a 5xx and never a logged traceback.

Bounded for CI: a few hundred examples in all, derandomized (the same examples on every run), through
Flask's test client over the real index."""
from __future__ import annotations

import logging
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st  # the "test" extra of setup.py

from search_web import create_app

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# -- what a hostile or careless client sends -----------------------------------------------------------
ODD_DIGITS = "²³¹⁰٣١٢０１２９߀०১๑"  # superscripts, Arabic-Indic, fullwidth, N'Ko, Devanagari, Bengali, Thai
SYNTAX = ["(", ")", "（", "）", '"', "“", "”", "「", "」", "『", "』", "AND", "OR", "NOT", "与", "或", "非", "&&", "||",
          "-", "+", "*", "?", "\\", ":", "~", "^", "/", " ", "\t", "\n", "\x00", "\u200b", "\ufeff", "\u202e"]
WORDS = ["信访", "积案", "化解", "小事不出村", "法律顾问", "普法", "观音堂镇", "大铭乡", "😀", "𠮷", "ｆｕｌｌ", "ا", "é"]

unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)  # lone surrogates cannot be sent
numbers = st.one_of(
    st.sampled_from(list(ODD_DIGITS)),
    st.integers(-10**30, 10**30).map(str),
    st.integers(0, 10**6).map(str),
    st.text(st.sampled_from("0123456789" + ODD_DIGITS + "-+. e_,"), min_size=1, max_size=12),
    st.integers(1, 6000).map(lambda n: "9" * n),
    st.integers(1, 6000).map(lambda n: "0" * n + "1"),
)
def _nest(n: int, open_: str, word: str, close: int) -> str:
    n = min(n, (480 - len(word)) // len(open_))  # deep, yet within max_query_chars (else only "too long")
    return open_ * n + word + ")" * close


_OPENERS = st.sampled_from(["(", "（", "-(", "NOT (", "((信访 "])
nested = st.builds(_nest, st.integers(1, 40), _OPENERS, st.sampled_from(WORDS), st.integers(0, 50))
deep = st.builds(_nest, st.integers(330, 500), _OPENERS, st.sampled_from(WORDS), st.integers(0, 50))
query_soup = st.lists(st.sampled_from(SYNTAX + WORDS), max_size=40).map("".join)
queries = st.one_of(query_soup, nested, deep, unicode_text, numbers,
                    st.integers(400, 3000).map(lambda n: "法" * n),
                    st.lists(st.sampled_from(SYNTAX), max_size=400).map("".join))
values = st.one_of(unicode_text, numbers, st.sampled_from(WORDS + ["", " ", "hybrid", "keyword", "semantic",
                                                                   "做法与成效", "存在问题", "1", "0", "true"]),
                   st.integers(101, 3000).map(lambda n: "乡" * n))
raw_bytes = st.binary(max_size=30).map(lambda b: quote_from_bytes(b, safe=""))  # invalid UTF-8 included

SEARCH_PARAMS = ["q", "mode", "place", "level", "region", "year", "kind", "group", "page", "size"]
params = st.lists(st.tuples(st.sampled_from(SEARCH_PARAMS + ["before", "after", "limit", "p", "chunk", "x"]),
                            st.one_of(values, queries)), max_size=8)


def encode(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs)


# -- the app over the sample index, with ERROR logs collected ----------------------------------------
class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def client(sample_index, searcher):
    handler = _Collect()
    logging.getLogger().addHandler(handler)
    app = create_app(sample_index, searcher)
    yield app.test_client()
    logging.getLogger().removeHandler(handler)
    assert not handler.records, [r.getMessage() for r in handler.records[:3]]


@pytest.fixture(scope="module")
def known(client) -> dict:
    hit = client.get("/api/search?q=" + quote("信访积案化解做法")).get_json()["hits"][0]
    return {"doc_id": hit["doc_id"], "chunk_id": hit["chunk_id"]}


def check(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code < 500, (url[:300], response.status_code, response.data[:300])
    if url.startswith("/api/") and response.status_code >= 400:
        assert response.is_json, url[:300]
        error = response.get_json()["error"]
        assert error["message"] and "\n" not in error["message"], url[:300]


# -- the properties ------------------------------------------------------------------------------------
@FUZZ
@given(q=queries, mode=st.sampled_from(["hybrid", "keyword", "semantic"]), extra=params, deep_q=deep)
def test_api_search_never_fails(client, q, mode, extra, deep_q):
    check(client, "/api/search?" + encode([("q", q), ("mode", mode), *extra]))
    check(client, "/api/search?" + encode([("q", deep_q), ("mode", mode)]))


@FUZZ
@given(extra=params, raw=raw_bytes, name=st.sampled_from(SEARCH_PARAMS), number=numbers,
       int_param=st.sampled_from(["page", "size", "year"]))
def test_api_search_and_facets_take_any_parameters(client, extra, raw, name, number, int_param):
    check(client, "/api/search?" + encode(extra))
    check(client, "/api/facets?" + encode(extra))
    check(client, f"/api/search?q=x&{name}={raw}")
    check(client, f"/api/search?q=x&{int_param}={quote(number, safe='')}")
    check(client, f"/api/facets?year={quote(number, safe='')}")


@FUZZ
@given(doc=st.one_of(values, numbers, raw_bytes), chunk=st.one_of(numbers, values, raw_bytes), extra=params,
       number=numbers, int_param=st.sampled_from(["before", "after", "limit"]))
def test_api_paths_never_fail(client, known, doc, chunk, extra, number, int_param):
    quoted_doc, quoted_chunk = quote(doc, safe="") or "x", quote(chunk, safe="") or "0"
    check(client, f"/api/documents/{quoted_doc}")
    for route in ("context", "similar"):
        check(client, f"/api/{route}/{quoted_chunk}?{encode(extra)}")
        check(client, f"/api/{route}/{known['chunk_id']}?{encode(extra)}")
        check(client, f"/api/{route}/{known['chunk_id']}?{int_param}={quote(number, safe='')}")


@FUZZ
@given(q=st.one_of(queries, deep), extra=params, doc=st.one_of(st.just(None), values), number=numbers)
def test_pages_never_fail(client, known, q, extra, doc, number):
    query = encode([("q", q), *extra])
    for url in ("/", "/compare", "/compare/export.csv"):
        check(client, f"{url}?{query}")
    doc_id = known["doc_id"] if doc is None else (quote(doc, safe="") or "x")
    check(client, f"/doc/{doc_id}?{query}")
    n = quote(number, safe="")
    check(client, f"/doc/{known['doc_id']}?p={n}&chunk={n}")
    check(client, f"/?q=x&page={n}")
