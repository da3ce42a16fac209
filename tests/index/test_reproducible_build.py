"""Reproducible builds (issue 29, point 5): the same corpus gives the same catalog whatever Python's hash
seed -- documents, ids, chunks, boilerplate groups, word offsets and metadata. Two fresh builds of
eval-townships in subprocesses under different PYTHONHASHSEED (set iteration order differs between them)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from indexer.storage.generations import GenerationStore

REPO = Path(__file__).resolve().parents[2]

# Columns that say when or where a build ran, not what it holds.
_WHEN = {"documents": {"indexed_at"}, "info": set()}
_INFO_WHEN = {"generation", "built_at"}
METADATA = ("title", "place", "level", "region", "year", "date")


def _catalog(index_dir: Path) -> Path:
    return GenerationStore(index_dir).current_path() / "catalog.sqlite"


def _rows(catalog: Path, table: str, columns: list[str]) -> list[tuple]:
    conn = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
    try:
        return conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1, 2").fetchall()
    finally:
        conn.close()


def _columns(catalog: Path, table: str) -> list[str]:
    conn = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
    try:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


def _differences(a: Path, b: Path, table: str, columns: list[str]) -> list[str]:
    left, right = _rows(a, table, columns), _rows(b, table, columns)
    if left == right:
        return []
    if len(left) != len(right):
        return [f"{table}: {len(left)} rows against {len(right)}"]
    out = []
    for x, y in zip(left, right):
        for name, u, v in zip(columns, x, y):
            if u != v:
                out.append(f"{table}.{name} of {x[0]}: {str(u)[:80]!r} != {str(v)[:80]!r}")
    return out


@pytest.fixture(scope="module")
def two_catalogs(seeded_builds) -> tuple[Path, Path]:
    return _catalog(seeded_builds[0]), _catalog(seeded_builds[1])


def test_two_builds_under_different_hash_seeds_give_identical_catalogs(two_catalogs):
    one, two = two_catalogs
    assert _rows(one, "documents", ["doc_id", "path"]), "the corpus was indexed"
    problems: list[str] = []
    for table in ("documents", "chunks", "aliases", "minhash", "word_offsets", "figures", "figure_scans"):
        columns = [c for c in _columns(one, table) if c not in _WHEN.get(table, set()) and c not in METADATA]
        problems += _differences(one, two, table, columns)
    info = [r for r in _rows(one, "info", ["key", "value"]) if r[0] not in _INFO_WHEN]
    info_two = [r for r in _rows(two, "info", ["key", "value"]) if r[0] not in _INFO_WHEN]
    problems += [f"info: {x} != {y}" for x, y in zip(info, info_two) if x != y]
    assert not problems, "\n".join(problems[:30])


def test_two_builds_under_different_hash_seeds_give_identical_metadata(two_catalogs):
    one, two = two_catalogs
    metadata = _differences(one, two, "documents", ["doc_id", *METADATA])
    assert not metadata, "\n".join(metadata[:30])
