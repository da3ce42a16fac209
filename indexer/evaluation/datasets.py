"""Labelled query sets in the two formats `reportsearch eval` reads.

1. Passage-level judgments (corpora/eval/): `queries.tsv` (qid, kind, query) and `qrels.tsv`
   (qid, file, grade, passage). A hit is relevant when it comes from `file` and its text contains
   `passage`; every qrels line is one relevant unit, counted at most once.
2. Id-level corpora (STARD): `corpus.jsonl` ({id, title, text}), `queries.jsonl` ({id, text}) and
   `qrels.tsv` (qid, passage id, grade; no header). The passages are indexed as a user's folder would be: one
   file per passage (`passage_file`: its title, a blank line, its text), through the whole pipeline
   (load, clean, structure, metadata); a hit's unit is the passage id its file is named after.

Both are turned into the same shape: per query, a function from a ranked hit list to the graded units it
found, so the metrics never need to know the format.
"""
from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, unquote

from indexer.pipeline.clean import normalize_spaces
from indexer.core.document import Document, DocumentMeta, Paragraph, SectionKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Judgment:
    unit: str  # what counts once: a qrels line ("file\tpassage") or a passage id
    grade: int
    doc_path: str  # the document a hit must come from
    passage: str = ""  # passage-level only: normalised text a hit must contain


@dataclass
class Query:
    qid: str
    text: str
    kind: str = "all"
    judgments: list[Judgment] = field(default_factory=list)

    def units_of(self, path: str, text: str) -> dict[str, int]:
        """The judged units (unit -> grade) a hit with this document path and chunk text matches."""
        found: dict[str, int] = {}
        norm = None
        for j in self.judgments:
            if j.doc_path != path:
                continue
            if j.passage:
                norm = normalize_spaces(text) if norm is None else norm
                if j.passage not in norm:
                    continue
            found[j.unit] = max(found.get(j.unit, 0), j.grade)
        return found


@dataclass
class Dataset:
    name: str
    kind: str  # "passage" or "id"
    queries: list[Query]
    root: Path
    # The folder of files that is indexed. Passage-level: the judged corpus; id-level: None until the passages
    # are written as files (prepare_index), or a folder of passage files the user gave (--corpus).
    corpus_dir: Path | None = None

    def kinds(self) -> list[str]:
        seen: list[str] = []
        for q in self.queries:
            if q.kind not in seen:
                seen.append(q.kind)
        return seen

    def select(self, qids: set[str]) -> "Dataset":
        return Dataset(self.name, self.kind, [q for q in self.queries if q.qid in qids], self.root,
                       self.corpus_dir)


class DatasetError(ValueError):
    """The folder is not a labelled set we can read; the message says what is missing or wrong."""


def load_dataset(root: Path, corpus_dir: Path | None = None) -> Dataset:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder")
    if corpus_dir is not None and not Path(corpus_dir).is_dir():
        raise DatasetError(f"--corpus {corpus_dir}: no such folder")
    if (root / "corpus.jsonl").exists() and (root / "queries.jsonl").exists():
        return load_id_level(root, corpus_dir)
    if (root / "queries.tsv").exists() and (root / "qrels.tsv").exists():
        return load_passage_level(root, corpus_dir)
    raise DatasetError(f"{root}: expected queries.tsv + qrels.tsv, or corpus.jsonl + queries.jsonl + qrels.tsv")


# -- format 1: passage-level judgments -----------------------------------------------------------

_CORPUS_HINT = re.compile(r"`(\.\./[^`]*corpora/[^`/]+)/?`")


def load_passage_level(root: Path, corpus_dir: Path | None = None) -> Dataset:
    queries: dict[str, Query] = {}
    for row in _tsv(root / "queries.tsv", header=True):
        if len(row) < 3:
            raise DatasetError(f"{root / 'queries.tsv'}: expected qid, kind, query in {row!r}")
        queries[row[0]] = Query(row[0], row[2], row[1] or "all")
    seen: set[tuple[str, str, str]] = set()
    for row in _tsv(root / "qrels.tsv", header=True):
        if len(row) < 4:
            raise DatasetError(f"{root / 'qrels.tsv'}: expected qid, file, grade, passage in {row!r}")
        qid, path, grade, passage = row[0], row[1], int(row[2]), row[3]
        if qid not in queries:
            raise DatasetError(f"{root / 'qrels.tsv'}: unknown query {qid}")
        key = (qid, path, passage)
        if key in seen:  # a repeated line is still one relevant unit
            continue
        seen.add(key)
        queries[qid].judgments.append(Judgment(f"{path}\t{passage}", grade, path, normalize_spaces(passage)))
    return Dataset(root.name, "passage", list(queries.values()), root,
                   Path(corpus_dir) if corpus_dir else _corpus_from_readme(root))


def _corpus_from_readme(root: Path) -> Path | None:
    """The corpus folder a passage-level set names in its README (e.g. `../corpora/fazhi-2023/`)."""
    readme = root / "README.md"
    candidates = []
    if readme.exists():
        for m in _CORPUS_HINT.finditer(readme.read_text(encoding="utf-8")):
            candidates.append(m.group(1))
    # The README's path is written from the set's own folder; tolerate it being one level off.
    for hint in candidates:
        name = Path(hint).name
        for base in (root, root.parent, root.parent.parent):
            for cand in (base / hint, base / name, base / "corpora" / name):
                if cand.is_dir():
                    return cand.resolve()
    return None


# -- format 2: id-level corpora (STARD) ----------------------------------------------------------

def load_id_level(root: Path, corpus_dir: Path | None = None) -> Dataset:
    queries: dict[str, Query] = {}
    for rec in _jsonl(root / "queries.jsonl"):
        queries[str(rec["id"])] = Query(str(rec["id"]), rec["text"])
    seen: set[tuple[str, str]] = set()
    for row in _tsv(root / "qrels.tsv", header=False):
        if len(row) < 2 or row[0] in ("query_id", "qid", "query-id"):
            continue
        qid, pid = row[0], row[1]
        grade = int(row[2]) if len(row) > 2 and row[2].strip() else 1
        if qid not in queries or (qid, pid) in seen or grade <= 0:
            continue
        seen.add((qid, pid))
        queries[qid].judgments.append(Judgment(pid, grade, passage_file(pid)))
    judged = [q for q in queries.values() if q.judgments]
    if len(judged) < len(queries):
        log.info("%s: %d queries have no judgments and are skipped", root, len(queries) - len(judged))
    return Dataset(root.name, "id", judged, root, Path(corpus_dir) if corpus_dir else None)


def passage_file(pid: str) -> str:
    """The file a passage is written to (and its path in the index): the id, made safe for a file name."""
    return quote(pid, safe="") + ".txt"


def passage_id(path: str) -> str:
    """The passage id of a file written by `write_passage_files` (inverse of `passage_file`)."""
    return unquote(path[:-4] if path.endswith(".txt") else path)


def passage_text(title: str, text: str) -> str:
    """A passage as a user's file holds it: the title, a blank line, the text (its own line breaks kept)."""
    body = text.strip("\n") + "\n"
    return f"{title.strip()}\n\n{body}" if title.strip() else body


def write_passage_files(root: Path, folder: Path) -> int:
    """Write every passage of `root`/corpus.jsonl as a file of `folder` (built aside, then renamed into
    place, so an interrupted run leaves no half folder). Returns the number of files."""
    folder = Path(folder)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    count = 0
    for rec in _jsonl(root / "corpus.jsonl"):
        pid, text = str(rec["id"]), str(rec.get("text", ""))
        if not text.strip():
            continue
        name = passage_file(pid)
        if os.sep in name or name.startswith("."):
            raise DatasetError(f"{root / 'corpus.jsonl'}: passage id {pid!r} cannot name a file")
        (partial / name).write_text(passage_text(str(rec.get("title", "")), text), encoding="utf-8")
        count += 1
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(partial, folder)
    log.info("wrote %d passages of %s as files in %s", count, root, folder)
    return count


def corpus_documents(root: Path) -> Iterator[Document]:
    """One Document per passage built directly (path = passage id, title = its title, one paragraph): for the
    naive baseline and benchmarks of the index alone; `reportsearch eval` indexes `write_passage_files`."""
    for rec in _jsonl(root / "corpus.jsonl"):
        pid, text = str(rec["id"]), normalize_spaces(str(rec.get("text", "")))
        if not text:
            continue
        title = normalize_spaces(str(rec.get("title", "")))
        yield Document(
            path=pid, fmt="jsonl", content_hash=hashlib.sha256(f"{title}\n{text}".encode()).hexdigest(),
            meta=DocumentMeta(title=title),
            paragraphs=[Paragraph(index=0, text=text, section_kind=SectionKind.OTHER)],
        )


def corpus_hash(root: Path) -> str:
    h = hashlib.sha256()
    with open(root / "corpus.jsonl", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _tsv(path: Path, header: bool) -> Iterator[list[str]]:
    if not path.exists():
        raise DatasetError(f"{path}: missing")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        for i, row in enumerate(reader):
            if (header and i == 0) or not row or not row[0].strip():
                continue
            yield [c.strip() for c in row]


def _jsonl(path: Path) -> Iterator[dict]:
    if not path.exists():
        raise DatasetError(f"{path}: missing")
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path}:{lineno}: not JSON ({exc})") from exc
