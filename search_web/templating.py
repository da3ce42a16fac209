"""Jinja helpers: URLs that change one part of the search state, labels, number formatting."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, request, url_for
from werkzeug.datastructures import MultiDict

from indexer.core.facets import FACET_FIELDS, FACET_LABELS
from indexer.core.provenance import described
from indexer.core.document import HEADING_SEPARATOR, SectionKind
from indexer.search.official import MATCH_TITLES, match_label
from search_web import state
from search_web.citation import cite, cite_paragraph, source_line
from search_web.params import FILTER_FIELDS, MODE_LABELS, without_bad_characters

KIND_CLASS = {SectionKind.PRACTICE.value: "practice", SectionKind.PROBLEMS.value: "problems",
              SectionKind.PLANS.value: "plans"}
_STATE_KEYS = ("q", "mode", "group", *FILTER_FIELDS)  # what a search URL carries besides the page


def _query_string(args: MultiDict) -> str:
    pairs = [(key, value) for key, value in args.items(multi=True) if value != ""]
    return urlencode(pairs)


def url_with(endpoint: str | None = None, **changes) -> str:
    """The current URL's search state with `changes` applied; None removes a key. Resets `page`."""
    return state_url(endpoint or request.endpoint, _STATE_KEYS, changes)


def state_url(endpoint: str, keys: tuple[str, ...], changes: dict) -> str:
    """`endpoint`'s URL carrying the current request's `keys` with `changes` applied (None removes a key, a
    list sets every value); empty values are left out, and so is anything not in `keys` (the page)."""
    args = MultiDict((k, v) for k, v in request.args.items(multi=True) if k in keys)
    for key, value in changes.items():
        if value is None:
            args.poplist(key)
        elif isinstance(value, (list, tuple)):
            args.setlist(key, [str(v) for v in value])
        else:
            args.setlist(key, [str(value)])
    base = url_for(endpoint)
    query = _query_string(args)
    return f"{base}?{query}" if query else base


def toggle_filter(field: str, value) -> str:
    """URL that adds `value` to filter `field`, or removes it when already selected."""
    current = request.args.getlist(field)
    value = str(value)
    new = [v for v in current if v != value] if value in current else [*current, value]
    return url_with(**{field: new or None})


def is_selected(field: str, value) -> bool:
    return str(value) in request.args.getlist(field)


def state_args(*, exclude: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The search state as (name, value) pairs, for hidden form fields."""
    return [(k, v) for k, v in request.args.items(multi=True) if k in _STATE_KEYS and k not in exclude and v]


def selected_filter_count() -> int:
    return sum(1 for key, value in request.args.items(multi=True) if key in FILTER_FIELDS and value.strip())


FACET_TOP = 10  # values a facet lists before 更多


def facet_split(field: str, values: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """A facet's (value, count) pairs as the first FACET_TOP and the rest (behind 更多); a selected value
    is always among the first, so what filters the page is never hidden. Empty values are left out."""
    values = [(v, n) for v, n in values if str(v)]
    if len(values) <= FACET_TOP + 2:  # "更多 2 个" would hide less than it costs
        return values, []
    selected = set(request.args.getlist(field))
    top = [pair for i, pair in enumerate(values) if i < FACET_TOP or str(pair[0]) in selected]
    rest = [pair for i, pair in enumerate(values) if i >= FACET_TOP and str(pair[0]) not in selected]
    return top, rest


def typed_query(req) -> str:
    """What goes back into the search box: the parsed query, or the text as typed when it was rejected
    (too long, too deeply nested), so the user can shorten it instead of typing it again."""
    if req is not None and req.query:
        return req.query
    limit = 4 * state.config().retrieval.max_query_chars  # enough to see what was wrong, without echoing megabytes
    return without_bad_characters(request.args.get("q", "")[:limit])  # the rest as typed, to fix and resend


def init_app(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(
        url_with=url_with,
        toggle_filter=toggle_filter,
        is_selected=is_selected,
        state_args=state_args,
        cite=cite,
        cite_paragraph=cite_paragraph,
        source_line=source_line,
        MODE_LABELS=MODE_LABELS,
        FACET_LABELS=FACET_LABELS,
        describe_provenance=described,
        FACET_ORDER=FACET_FIELDS,
        KIND_CLASS=KIND_CLASS,
        HEADING_SEPARATOR=HEADING_SEPARATOR,
        # A global, not a context processor: macros imported without context (the search form) see
        # globals only, and the box rendered maxlength="" before.
        max_query_chars=app.extensions[state.CONFIG_KEY].retrieval.max_query_chars,
        typed_query=typed_query,
        match_label=match_label,
        facet_split=facet_split,
        MATCH_TITLES=MATCH_TITLES,
        selected_filter_count=selected_filter_count,
    )
