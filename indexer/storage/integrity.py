"""Is the published generation whole? A cheap check run by every indexing run and by `reportsearch status`.

It checks presence, sizes and checksums against the generation's manifest (indexer/storage/manifest.py), that the
catalog is an SQLite file of the size its header says, and that the counts agree between the catalog, the
full-text index and the vectors. It never trusts a damaged part: the indexing run rebuilds what is broken
(indexer/build/index.py: a damaged catalog means a rebuild from the corpus; damaged full text or vectors are
rebuilt from the catalog and the embedding cache).
"""
from __future__ import annotations

import json
import logging
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

from indexer.storage.generations import CURRENT, READY, CurrentUnreadable, GenerationLayout, GenerationStore
from indexer.storage.layout import REPORT as REPORT_NAME
from indexer.storage.manifest import read_manifest, verify_manifest

log = logging.getLogger(__name__)

# Parts of a generation. Damage to "catalog" (the source of truth) or to the generation as a whole means
# nothing of it can be reused; the others can be rebuilt from the catalog.
WHOLE = frozenset({"current", "generation", "catalog"})
REPAIR_COMMAND = "reportsearch index --full"

_SQLITE_MAGIC = b"SQLite format 3\x00"
_CATALOG, _FULLTEXT, _VECTORS = GenerationLayout.CATALOG, GenerationLayout.FULLTEXT, GenerationLayout.VECTORS
_FAISS_FLAT_HEADER = 90  # IndexIDMap2 over IndexFlat: two index headers, two vector lengths


@dataclass(frozen=True)
class Damage:
    part: str  # current | generation | ready | catalog | fulltext | vectors
    what: str  # one line for the operator, naming the file

    def __str__(self) -> str:
        return self.what


@dataclass
class Published:
    """The published generation as the check found it."""

    name: str | None
    path: Path | None
    damage: list[Damage]

    @property
    def parts(self) -> set[str]:
        return {d.part for d in self.damage}

    @property
    def unusable(self) -> bool:
        """Nothing of it may be read (the catalog, the folder or CURRENT is damaged)."""
        return bool(self.parts & WHOLE)

    def describe(self) -> str:
        return "; ".join(str(d) for d in self.damage)


def check_published(store: GenerationStore, checksums: bool = True) -> Published:
    """Find and check the generation CURRENT names (name None: nothing published yet)."""
    try:
        name = store.current_name()
    except CurrentUnreadable as exc:
        return Published(None, None, [Damage("current", str(exc))])
    if name is None:
        lost = _published_before(store)
        if lost:  # CURRENT deleted: not "nothing published yet", which would hide the loss
            return Published(None, None, [Damage("current", f"{store.index_dir / CURRENT} is missing "
                                                            f"(the last run published {lost})")])
        return Published(None, None, [])
    path = store.gen_root / name
    return Published(name, path, check_generation(path, checksums))


def last_published(store: GenerationStore) -> str | None:
    """The published generation's name: CURRENT's, or (CURRENT lost) the one the last run's report says was
    published, if its folder is still there."""
    name = store.current_name_or_none()
    return name if name is not None else _published_before(store)


def _published_before(store: GenerationStore) -> str | None:
    try:
        last = json.loads((store.index_dir / REPORT_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(last, dict):
        return None
    # A finished run names what it published; a running (or killed) one what was published when it started.
    name = (last.get("generation") if last.get("status") in ("ok", "partial") else
            last.get("previous_generation") if last.get("status") in ("running", "failed") else None)
    return name if isinstance(name, str) and name and (store.gen_root / name).is_dir() else None


def check_generation(path: Path, checksums: bool = True) -> list[Damage]:
    """Everything wrong with one generation folder (empty list: it is whole)."""
    name = path.name
    if not path.is_dir():
        return [Damage("generation", f"generation folder {path} is missing")]
    damage: list[Damage] = []
    if not (path / READY).exists():
        damage.append(Damage("ready", f"{name}/{READY} is missing"))
    try:
        files = read_manifest(path)
    except ValueError as exc:
        return damage + [Damage("generation", f"{name}: {exc}")]
    if files is not None:
        for problem in verify_manifest(path, files, checksums):
            damage.append(Damage(_part_of(problem), f"{name}/{problem}"))
    broken = {d.part for d in damage}
    if "catalog" not in broken:
        # Without a manifest (published before manifests existed) SQLite checks its pages itself, once:
        # the next run publishes a generation with a manifest.
        counts = _check_catalog(path, damage, pages=files is None)
        if counts is not None:
            chunks, dim = counts
            if "fulltext" not in broken:
                _check_fulltext(path, chunks, damage)
            if "vectors" not in broken:
                _check_vectors(path, chunks, dim, damage)
    return damage


def _part_of(problem: str) -> str:
    if problem.startswith(_CATALOG):
        return "catalog"
    if problem.startswith(_FULLTEXT + "/"):
        return "fulltext"
    if problem.startswith((_VECTORS, GenerationLayout.SENTENCE_VECTORS, GenerationLayout.SENTENCE_SPANS,
                           GenerationLayout.TERMS, GenerationLayout.TERM_VECTORS)):
        # the sentence vectors and the term table are rewritten from the embedding cache with the chunk vectors
        return "vectors"
    return "generation"


def _check_catalog(path: Path, damage: list[Damage], pages: bool = False) -> tuple[int, int | None] | None:
    """(chunk count, vector dimension) from a sound catalog; None (and a Damage) when it is not.
    With `pages`, also SQLite's own check of every page (PRAGMA quick_check)."""
    from indexer.storage.catalog import Catalog

    file = GenerationLayout(path).catalog
    problem = _sqlite_file_problem(file)
    if problem:
        damage.append(Damage("catalog", f"{path.name}/{_CATALOG} {problem}"))
        return None
    catalog = Catalog(file, readonly=True)
    try:
        if pages:
            result = catalog.connect().execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                damage.append(Damage("catalog", f"{path.name}/{_CATALOG} is damaged ({result})"))
                return None
        info = catalog.info()
        chunks = catalog.chunk_count()
        documents = catalog.document_count()
    except sqlite3.DatabaseError as exc:
        damage.append(Damage("catalog", f"{path.name}/{_CATALOG} cannot be read ({exc})"))
        return None
    finally:
        catalog.close()
    for key, found in (("chunks", chunks), ("documents", documents)):
        if key in info and info[key] != str(found):
            damage.append(Damage("catalog", f"{path.name}/{_CATALOG} holds {found} {key}, "
                                            f"{info[key]} when it was built"))
            return None
    dim = int(info["dim"]) if info.get("dim", "").isdigit() else None
    return chunks, dim


def _sqlite_file_problem(file: Path) -> str:
    try:
        size = file.stat().st_size
        with open(file, "rb") as fh:
            header = fh.read(100)
    except FileNotFoundError:
        return "is missing"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if size == 0:
        return "is empty (0 bytes)"
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        return "is not an SQLite database (garbled header)"
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    pages = struct.unpack(">I", header[28:32])[0]
    header_counts_valid = header[24:28] == header[92:96]
    if header_counts_valid and pages and page_size * pages != size:
        return f"has {size:,} bytes where its header says {page_size * pages:,} (truncated?)"
    return ""


def _check_fulltext(path: Path, chunks: int, damage: list[Damage]) -> None:
    from indexer.storage.fulltext.factory import backend_class, detect_backend

    directory = GenerationLayout(path).fulltext
    try:
        index = backend_class(detect_backend(directory)).open(directory)
    except FileNotFoundError:
        damage.append(Damage("fulltext", f"{path.name}/{_FULLTEXT}/ is missing"))
        return
    except Exception as exc:  # a backend's own error for unreadable files: the index is what is broken
        damage.append(Damage("fulltext", f"{path.name}/{_FULLTEXT}/ cannot be opened ({type(exc).__name__}: {exc})"))
        return
    try:
        count = index.count()
    except Exception as exc:
        damage.append(Damage("fulltext", f"{path.name}/{_FULLTEXT}/ cannot be read ({type(exc).__name__}: {exc})"))
        return
    finally:
        index.close()
    if count != chunks:
        damage.append(Damage("fulltext", f"{path.name}/{_FULLTEXT}/ holds {count} chunks, the catalog {chunks}"))


def _check_vectors(path: Path, chunks: int, dim: int | None, damage: list[Damage]) -> None:
    """Read the FAISS header only (the file is ~2 kB per chunk): kind, dimension and count must fit the
    catalog, and the file must be long enough to hold them."""
    file = GenerationLayout(path).vectors
    try:
        size = file.stat().st_size
        with open(file, "rb") as fh:
            head = fh.read(64)
    except FileNotFoundError:
        damage.append(Damage("vectors", f"{path.name}/{_VECTORS} is missing"))
        return
    except OSError as exc:
        damage.append(Damage("vectors", f"{path.name}/{_VECTORS} cannot be read ({exc.strerror or exc})"))
        return
    if len(head) < 45 or head[:4] != b"IxM2":
        damage.append(Damage("vectors", f"{path.name}/{_VECTORS} is not a vector index (garbled or empty)"))
        return
    d, ntotal = struct.unpack("<iq", head[4:16])
    inner = head[37:41]
    if dim is not None and d != dim:
        damage.append(Damage("vectors", f"{path.name}/{_VECTORS} has dimension {d}, the catalog {dim}"))
    elif inner == b"IxFI" and ntotal != chunks:
        damage.append(Damage("vectors", f"{path.name}/{_VECTORS} holds {ntotal} vectors, the catalog {chunks} chunks"))
    elif ntotal < chunks:  # an extended HNSW graph may also hold removed chunks' vectors, never fewer
        damage.append(Damage("vectors", f"{path.name}/{_VECTORS} holds {ntotal} vectors, the catalog {chunks} chunks"))
    elif inner == b"IxFI" and size != _FAISS_FLAT_HEADER + ntotal * (4 * d + 8):
        damage.append(Damage("vectors", f"{path.name}/{_VECTORS} has {size:,} bytes, "
                                        f"{_FAISS_FLAT_HEADER + ntotal * (4 * d + 8):,} expected (truncated?)"))
    elif size < ntotal * (4 * d + 8):
        damage.append(Damage("vectors", f"{path.name}/{_VECTORS} has {size:,} bytes, too few for {ntotal} vectors"))


def catalog_unreadable(path: Path) -> Damage:
    """The damage an indexing run records when reading the catalog failed although the check passed."""
    return Damage("catalog", f"{path.name}/{_CATALOG} cannot be read")


def repair_action(published: Published) -> str:
    """What an indexing run does about the damage it found (said in its report)."""
    if published.unusable:
        return "rebuilt from the corpus"
    done = []
    if "fulltext" in published.parts:
        done.append("full text rebuilt from the catalog")
    if "vectors" in published.parts:
        done.append("vectors rebuilt from the embedding cache")
    return ", ".join(done) + "; published as a new generation" if done else "published as a new generation"
