"""The package layout keeps its promises: imports only run down the layers of docs/design.md (checked by
scripts/tools/check_imports.py), and the facet fields have one home that every part follows."""
from __future__ import annotations

import dataclasses
import re
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

from indexer.core.facets import FACET_FIELDS, FACET_LABELS
from indexer.core.filters import Filters
from indexer.storage.fulltext.base import FullTextRecord

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "tools" / "check_imports.py"


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
    assert check.upward_edges({"indexer.cli.commands": {"search_web.serve"}, "search_web.serve": set()}) == [
        "upward import: indexer.cli.commands (evaluation/cli) -> search_web.serve (web)"]
    assert check.upward_edges({"search_web.serve": {"indexer.cli.commands"}, "indexer.cli.commands": set()}) == []
    found = check.cycles({"indexer.pipeline.load.a": {"indexer.pipeline.load.b"},
                          "indexer.pipeline.load.b": {"indexer.pipeline.load.a"}})
    assert found == ["import cycle: indexer.pipeline.load.a -> indexer.pipeline.load.b; "
                     "indexer.pipeline.load.b -> indexer.pipeline.load.a"]


def test_the_layers_are_read_from_the_folders_and_planted_violations_fail(tmp_path: Path) -> None:
    """A copy of the tree with an upward import planted in core/ and a module left at indexer/'s top level:
    the check names both and exits 1 (the layer of a module is where its file lives, not a list of names)."""
    for package in ("indexer", "search_web"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    clean = subprocess.run([sys.executable, str(SCRIPT), "--root", str(tmp_path)], capture_output=True, text=True,
                           timeout=120)
    assert clean.returncode == 0, clean.stdout
    lru = tmp_path / "indexer" / "core" / "lru.py"
    lru.write_text(lru.read_text(encoding="utf-8") + "\nfrom indexer.search.searcher import Searcher\n",
                   encoding="utf-8")
    (tmp_path / "indexer" / "stray.py").write_text("X = 1\n", encoding="utf-8")
    out = subprocess.run([sys.executable, str(SCRIPT), "--root", str(tmp_path)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 1
    assert "upward import: indexer.core.lru (core) -> indexer.search.searcher (search)" in out.stdout
    assert "misplaced module: indexer.stray is in no layer folder" in out.stdout


def test_the_library_cli_does_not_import_the_web_package() -> None:
    graph = _checker().graph()
    cli = [m for m in graph if m == "indexer.cli" or m.startswith("indexer.cli.")]
    assert len(cli) >= 3
    assert not any(t.startswith("search_web") for m in cli for t in graph[m])


def test_filters_and_index_records_carry_exactly_the_facet_fields() -> None:
    assert tuple(f.name for f in dataclasses.fields(Filters)) == FACET_FIELDS
    record_fields = {f.name for f in dataclasses.fields(FullTextRecord)}
    assert set(FACET_FIELDS) <= record_fields
    assert set(FACET_LABELS) == set(FACET_FIELDS)
    record = FullTextRecord(chunk_id=1, doc_id="d", text="t", title="", heading_path="", place="大铭乡", year=2023)
    # a document's missing value is indexed as 未知 (a filter value of its own, issue 25)
    assert record.filter_values() == {"place": "大铭乡", "year": "2023", "level": "未知", "region": "未知"}


# --- docs/design.md names the tree as it is ----------------------------------------------------------------

DESIGN = ROOT / "docs" / "design.md"
_ENTRY = re.compile(r"^[\w./]+(\.py|\.json|/)$")


def _files_tree() -> list[str]:
    """The paths of the "## Files" block: each entry's name column, nested by two-space indentation."""
    text = DESIGN.read_text(encoding="utf-8")
    block = text.split("## Files", 1)[1].split("```", 2)[1]
    paths, stack = [], []
    for line in block.splitlines():
        if not line.strip():
            continue
        depth = (len(line) - len(line.lstrip())) // 2
        names = [n.strip() for n in re.split(r"\s{2,}", line.strip(), maxsplit=1)[0].split(",")]
        if not all(_ENTRY.match(n) for n in names):
            continue  # a description's continuation line
        del stack[depth:]
        paths += ["/".join(stack + [n]) for n in names]
        if names[-1].endswith("/"):
            stack.append(names[-1].rstrip("/"))
    return paths


def test_every_path_design_md_names_exists() -> None:
    tree = _files_tree()
    assert len(tree) > 80, "the Files block of docs/design.md was not found or not parsed"
    mentioned = set(re.findall(r"(?<![\w/.])((?:indexer|search_web|scripts|tests|docs)/[\w/.-]*\w/?)",
                               DESIGN.read_text(encoding="utf-8")))
    missing = sorted(p for p in set(tree) | mentioned if not (ROOT / p).exists())
    assert not missing, f"docs/design.md names paths that do not exist: {missing}"


def test_design_md_lists_every_module_of_the_library() -> None:
    named = set(_files_tree())
    modules = sorted(str(p.relative_to(ROOT)) for pkg in ("indexer", "search_web") for p in (ROOT / pkg).rglob("*.py")
                     if p.name not in ("__init__.py", "__main__.py") or p.parent.name in ("indexer", "search_web"))
    unnamed = [m for m in modules if m not in named]
    assert not unnamed, f"modules missing from the Files block of docs/design.md: {unnamed}"
