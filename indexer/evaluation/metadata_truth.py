"""`reportsearch eval-metadata`: the extracted place, region, level and year against a hand-judged truth file.

Truth file: TSV with header `file	place	region	level	year` (more columns, e.g. `note`, are ignored); `file`
relative to the corpus folder; a blank cell means a reader cannot tell it from the document, so the right
answer is unknown. Each document is parsed as an index build parses it (indexer.pipeline.ingest.parse_file, meta.csv
sidecars not applied: they are the operator's answers, not the extractor's).

Per field: accuracy = right / documents whose value a reader can tell; wrong = a non-blank value that is not
the truth (also where the truth is unknown), as a share of all documents.
"""
from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

from indexer.core.config import Config
from indexer.core.document import DocumentMeta
from indexer.pipeline.ingest import parse_file
from indexer.pipeline.load import LoadError

log = logging.getLogger(__name__)

FIELDS = ("place", "region", "level", "year")
_REQUIRED = ("file", *FIELDS)


class TruthFileError(ValueError):
    """The truth file is missing or malformed (the message names it)."""


@dataclass
class FieldScore:
    known: int = 0  # documents whose value a reader can tell
    right: int = 0
    unknown: int = 0  # told by a reader, left blank by us
    wrong: int = 0  # a non-blank value that is not the truth
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (file, ours, truth)

    @property
    def accuracy(self) -> float:
        return self.right / self.known if self.known else 1.0


@dataclass
class MetadataReport:
    documents: int
    fields: dict[str, FieldScore]
    unreadable: list[tuple[str, str]]

    def to_dict(self) -> dict:
        return {
            "documents": self.documents,
            "fields": {name: {"known": s.known, "right": s.right, "unknown": s.unknown, "wrong": s.wrong,
                              "accuracy": round(s.accuracy, 4),
                              "errors": [{"file": f, "ours": o, "truth": t} for f, o, t in s.errors]}
                       for name, s in self.fields.items()},
            "unreadable": [{"file": f, "reason": r} for f, r in self.unreadable],
        }


def load_truth(path: Path) -> dict[str, dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise TruthFileError(f"{path}: cannot read the truth file ({exc.strerror or exc})") from exc
    rows = list(csv.DictReader(text.splitlines(), delimiter="\t"))
    header = rows[0].keys() if rows else []
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise TruthFileError(f"{path}: header must have the columns {', '.join(_REQUIRED)}; missing {', '.join(missing)}")
    truth: dict[str, dict[str, str]] = {}
    for line_no, row in enumerate(rows, start=2):
        name = (row.get("file") or "").strip()
        if not name:
            raise TruthFileError(f"{path}: line {line_no}: no file name")
        year = (row.get("year") or "").strip()
        if year and not year.isdigit():
            raise TruthFileError(f"{path}: line {line_no}: bad year {year!r} (want four digits or blank)")
        truth[name] = {k: (row.get(k) or "").strip() for k in FIELDS}
    return truth


def _value(meta: DocumentMeta, name: str) -> str:
    value = getattr(meta, name)
    return "" if value is None else str(value)


def evaluate(truth_path: Path, corpus: Path, config: Config) -> MetadataReport:
    if not corpus.is_dir():
        raise TruthFileError(f"{corpus}: corpus folder not found")
    truth = load_truth(truth_path)
    scores = {name: FieldScore() for name in FIELDS}
    unreadable: list[tuple[str, str]] = []
    for name in sorted(truth):
        path = corpus / name
        try:
            meta = parse_file(path, name, config.ingest.max_file_bytes).meta
        except (LoadError, OSError) as exc:
            unreadable.append((name, str(exc)))
            meta = DocumentMeta()
        for f in FIELDS:
            ours, right = _value(meta, f), truth[name][f]
            s = scores[f]
            if right:
                s.known += 1
                if ours == right:
                    s.right += 1
                elif not ours:
                    s.unknown += 1
            if ours and ours != right:
                s.wrong += 1
            if ours != right:
                s.errors.append((name, ours, right))
    return MetadataReport(len(truth), scores, unreadable)


def format_report(report: MetadataReport, show_errors: bool) -> str:
    lines = [f"documents {report.documents}",
             f"{'field':<8}{'accuracy':>10}{'right':>7}{'known':>7}{'unknown':>9}{'wrong':>7}{'wrong %':>9}"]
    for name, s in report.fields.items():
        lines.append(f"{name:<8}{s.accuracy:>10.1%}{s.right:>7}{s.known:>7}{s.unknown:>9}{s.wrong:>7}"
                     f"{s.wrong / max(report.documents, 1):>9.1%}")
    for name, reason in report.unreadable:
        lines.append(f"unreadable: {name}: {reason}")
    if show_errors:
        for name, s in report.fields.items():
            for file, ours, right in s.errors:
                lines.append(f"  {name:<7} {file}: ours {ours or '∅'}  truth {right or '∅'}")
    return "\n".join(lines)
