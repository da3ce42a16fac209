"""The package layout keeps its promises: imports only run down the layers of docs/design.md (checked by
scripts/check_imports.py), and the facet fields have one home that every part follows."""
from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from pathlib import Path

from indexer.base.facets import FACET_FIELDS, FACET_LABELS
from indexer.base.filters import Filters
from indexer.fulltext.base import FullTextRecord

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_imports.py"


def _checker():
    spec = importlib.util.spec_from_file_location("check_imports", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_import_graph_has_no_cycle_and_no_upward_arrow() -> None:
    out = subprocess.run([sys.executable, str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no cycle" in out.stdout


def test_the_checker_names_an_upward_edge_and_a_cycle() -> None:
    check = _checker()
    assert check.upward_edges({"indexer.cli": {"search_web.serve"}, "search_web.serve": set()}) == [
        "upward import: indexer.cli (apps) -> search_web.serve (web)"]
    assert check.upward_edges({"search_web.serve": {"indexer.cli"}, "indexer.cli": set()}) == []
    found = check.cycles({"indexer.load.a": {"indexer.load.b"}, "indexer.load.b": {"indexer.load.a"}})
    assert found == ["import cycle: indexer.load.a -> indexer.load.b; indexer.load.b -> indexer.load.a"]


def test_the_library_cli_does_not_import_the_web_package() -> None:
    assert not any(m.startswith("search_web") for m in _checker().graph()["indexer.cli"])


def test_filters_and_index_records_carry_exactly_the_facet_fields() -> None:
    assert tuple(f.name for f in dataclasses.fields(Filters)) == FACET_FIELDS
    record_fields = {f.name for f in dataclasses.fields(FullTextRecord)}
    assert set(FACET_FIELDS) <= record_fields
    assert set(FACET_LABELS) == set(FACET_FIELDS)
    record = FullTextRecord(chunk_id=1, doc_id="d", text="t", title="", heading_path="", place="大铭乡", year=2023)
    # a document's missing value is indexed as 未知 (a filter value of its own, issue 25)
    assert record.filter_values() == {"place": "大铭乡", "year": "2023", "level": "未知", "region": "未知"}
