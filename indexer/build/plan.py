"""The plan of an indexing run: what changed between the corpus and the published catalog, decided before
anything is written. Pure logic over the scan and the catalog's rows (the only I/O is hashing a file
whose size or mtime changed), so it is tested without a model or an index.

Files are matched by content hash: a known path with the same hash is unchanged (only touched if its
mtime moved), a known path with a new hash is changed, an unknown path whose hash belongs to a document
no longer present is a rename (its doc id, and so its URL, is kept), identical files are indexed once
(the others become aliases), and documents whose file is gone are deleted -- unless the file failed to
read or lies under a folder that cannot be listed, in which case the indexed version is kept."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from indexer.storage.catalog import DocRow
from indexer.build.report import RunReport
from indexer.pipeline.load import unreadable
from indexer.pipeline.scan import CorpusFile, ScanResult

Alias = tuple[str, int, int]  # doc_id, size, mtime_ns


@dataclass
class Plan:
    """What a run will do, decided before anything is written."""

    to_parse: list[tuple[CorpusFile, str, str, str]] = field(default_factory=list)  # file, doc_id, hash, overrides
    renames: list[tuple[str, CorpusFile]] = field(default_factory=list)  # doc_id, new file
    touched: list[tuple[str, CorpusFile]] = field(default_factory=list)  # unchanged content, new mtime
    deletes: list[str] = field(default_factory=list)  # doc_ids
    aliases: dict[str, Alias] = field(default_factory=dict)
    unchanged: int = 0
    hidden: list[str] = field(default_factory=list)  # indexed paths under folders that could not be read


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def new_doc_id(rel_path: str, used: set[str]) -> str:
    """A stable id for a new document (derived from its path), distinct from every id in `used`."""
    salt = 0
    while True:
        doc_id = hashlib.sha1(f"{rel_path}\x00{salt}".encode()).hexdigest()[:12]
        if doc_id not in used:
            return doc_id
        salt += 1


def make_plan(scan: ScanResult, prev_rows: list[DocRow], prev_aliases: dict[str, Alias],
              overrides: dict[str, dict[str, str]], reparse_all: bool, report: RunReport) -> Plan:
    """The plan for `scan` against the published catalog's documents and aliases. Records added, changed,
    renamed, deleted, duplicate and failed files in `report`."""
    plan = Plan()
    prev_docs = {d.path: d for d in prev_rows}
    failed_paths = _keep_hidden(scan, prev_docs, prev_aliases, plan, report)
    hashed = _hash_files(scan.files, prev_docs, prev_aliases, failed_paths, report)
    groups: dict[str, list[CorpusFile]] = {}
    for f, digest in hashed:
        groups.setdefault(digest, []).append(f)
    present = {f.rel_path for f, _ in hashed} | failed_paths
    by_hash = {d.content_hash: d for d in prev_docs.values()}
    claimed_ids: set[str] = set()
    used_ids = {d.doc_id for d in prev_docs.values()}
    for digest, files in groups.items():
        # Keep the path the catalog already knows as the primary copy, so ids and URLs stay put.
        files.sort(key=lambda f: (not (f.rel_path in prev_docs and prev_docs[f.rel_path].content_hash == digest),
                                  f.rel_path))
        primary, copies = files[0], files[1:]
        for c in copies:
            report.duplicates.append([c.rel_path, primary.rel_path])
        ov = json.dumps(overrides.get(primary.rel_path, {}), sort_keys=True, ensure_ascii=False)
        moved_from = by_hash.get(digest)
        if moved_from is not None and (moved_from.path in present or moved_from.doc_id in claimed_ids):
            moved_from = None
        doc_id = _place(primary, digest, ov, prev_docs.get(primary.rel_path), moved_from, used_ids, reparse_all,
                        plan, report)
        claimed_ids.add(doc_id)
        for c in copies:
            plan.aliases[c.rel_path] = (doc_id, c.size, c.mtime_ns)
    for path, doc in prev_docs.items():
        if doc.doc_id not in claimed_ids and path not in failed_paths:
            plan.deletes.append(doc.doc_id)
            report.deleted.append(path)
    report.unchanged = plan.unchanged
    return plan


def fail_copies(plan: Plan, failed: dict[str, tuple[str, str]], prev_aliases: dict[str, Alias],
                kept_ids: set[str], report: RunReport) -> None:
    """The identical copies of a file that failed to read fail with it, each named in its own line: they
    are not indexed as aliases of a document that does not exist. `failed` maps the failed primary's doc id
    to (its path, the reason); a copy that was an alias of a document still indexed (`kept_ids`: the failed
    file's previous version is kept) keeps that alias, as a failed file keeps its previous version."""
    if not failed:
        return
    for path, (doc_id, _size, _mtime) in list(plan.aliases.items()):
        if doc_id not in failed:
            continue
        primary, reason = failed[doc_id]
        del plan.aliases[path]
        previous = prev_aliases.get(path)
        kept = previous is not None and previous[0] in kept_ids
        if kept:
            plan.aliases[path] = previous
        report.fail(path, f"{reason} (same content as {primary})", kept)
        if [path, primary] in report.duplicates:
            report.duplicates.remove([path, primary])


def _place(primary: CorpusFile, digest: str, ov: str, known: DocRow | None, moved_from: DocRow | None,
           used_ids: set[str], reparse_all: bool, plan: Plan, report: RunReport) -> str:
    """Decide what happens to one distinct content (its primary file); returns its doc id."""
    if known is not None:
        if known.content_hash == digest and known.overrides == ov and not reparse_all:
            plan.unchanged += 1
            if (known.size, known.mtime_ns) != (primary.size, primary.mtime_ns):
                plan.touched.append((known.doc_id, primary))
        else:
            plan.to_parse.append((primary, known.doc_id, digest, ov))
            report.changed.append(primary.rel_path)
        return known.doc_id
    if moved_from is not None:
        report.renamed.append([moved_from.path, primary.rel_path])
        if moved_from.overrides == ov and not reparse_all:
            plan.renames.append((moved_from.doc_id, primary))
        else:
            plan.to_parse.append((primary, moved_from.doc_id, digest, ov))
        return moved_from.doc_id
    doc_id = new_doc_id(primary.rel_path, used_ids)
    used_ids.add(doc_id)
    plan.to_parse.append((primary, doc_id, digest, ov))
    report.added.append(primary.rel_path)
    return doc_id


def _keep_hidden(scan: ScanResult, prev_docs: dict[str, DocRow], prev_aliases: dict[str, Alias], plan: Plan,
                 report: RunReport) -> set[str]:
    """Documents under a folder that cannot be listed are unknown this run, not deleted: they keep their
    indexed version (and their duplicate-file aliases), like an unreadable file does. Returns the paths
    that must not be deleted; reports the scan's failures."""
    failed_paths = {f.path for f in scan.failures}
    hidden = tuple(d + "/" if d else "" for d in scan.failed_dirs)
    kept_under: dict[str, int] = {}
    for path in prev_docs:
        for d in hidden:
            if path.startswith(d):
                kept_under[d] = kept_under.get(d, 0) + 1
                failed_paths.add(path)
                plan.hidden.append(path)
    for path, alias in prev_aliases.items():
        if path.startswith(hidden):
            plan.aliases[path] = alias
    for failure in scan.failures:
        kept = kept_under.get("" if failure.path == "." else failure.path + "/", 0)
        reason = failure.reason + (f" ({kept} indexed documents under it kept)" if kept else "")
        report.fail(failure.path, reason, failure.path in prev_docs or kept > 0)
    return failed_paths


def _hash_files(files: list[CorpusFile], prev_docs: dict[str, DocRow], prev_aliases: dict[str, Alias],
                failed_paths: set[str], report: RunReport) -> list[tuple[CorpusFile, str]]:
    """Hash every file, reusing the catalog's hash when size and mtime are unchanged. A file that cannot
    be read is reported (and added to `failed_paths`, so its indexed version is kept)."""
    by_id = {d.doc_id: d for d in prev_docs.values()}
    hashed: list[tuple[CorpusFile, str]] = []
    for f in files:
        known = prev_docs.get(f.rel_path)
        if known and known.size == f.size and known.mtime_ns == f.mtime_ns:
            hashed.append((f, known.content_hash))
            continue
        alias = prev_aliases.get(f.rel_path)
        doc = by_id.get(alias[0]) if alias and alias[1] == f.size and alias[2] == f.mtime_ns else None
        if doc is not None:
            hashed.append((f, doc.content_hash))
            continue
        try:
            hashed.append((f, sha256_file(f.abs_path)))
        except OSError as exc:
            report.fail(f.rel_path, unreadable(exc), f.rel_path in prev_docs)
            failed_paths.add(f.rel_path)
    return hashed
