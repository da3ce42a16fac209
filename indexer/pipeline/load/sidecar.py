"""Optional per-folder metadata sidecars: `meta.csv` sets or corrects a file's metadata by hand.

Header: file,title,place,region,level,year,date — `file` relative to the folder holding the sidecar, blank
cells leave the extracted value alone. Problems are returned (sidecar path and line named), never raised, so
one bad row does not stop an index build.
"""
from __future__ import annotations

import csv
import io
import logging
import re
from pathlib import Path, PurePosixPath

log = logging.getLogger(__name__)

SIDECAR_NAME = "meta.csv"
FIELDS = ("title", "place", "region", "level", "year", "date")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def load_sidecars(corpus_root: Path) -> tuple[dict[str, dict[str, str]], list[tuple[str, str]]]:
    """Overrides by corpus-relative path ('/'-separated), and (sidecar path, reason) for every bad row."""
    overrides: dict[str, dict[str, str]] = {}
    problems: list[tuple[str, str]] = []
    for sidecar in sorted(corpus_root.rglob(SIDECAR_NAME)):
        rel_sidecar = sidecar.relative_to(corpus_root).as_posix()
        folder = PurePosixPath(rel_sidecar).parent
        for rel_file, values in _read(sidecar, rel_sidecar, problems):
            key = (folder / rel_file).as_posix() if str(folder) != "." else rel_file
            overrides.setdefault(key, {}).update(values)
    return overrides, problems


def _read(sidecar: Path, rel: str, problems: list[tuple[str, str]]) -> list[tuple[str, dict[str, str]]]:
    try:
        text = sidecar.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = sidecar.read_bytes().decode("gb18030")  # saved from Excel on a Chinese Windows
        except UnicodeDecodeError:
            problems.append((rel, "not UTF-8 or GBK text"))
            return []
    except OSError as exc:
        problems.append((rel, f"cannot read: {exc.strerror or exc}"))
        return []
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if "file" not in header:
        problems.append((rel, "line 1: header must start with 'file' (file,title,place,region,level,year,date)"))
        return []
    unknown = [h for h in header if h and h != "file" and h not in FIELDS]
    if unknown:
        problems.append((rel, f"line 1: unknown column(s) {', '.join(unknown)}; known: file, {', '.join(FIELDS)}"))
        return []
    rows: list[tuple[str, dict[str, str]]] = []
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            problems.append((rel, f"line {line_no}: {len(cells)} cells but the header has {len(header)}"))
            continue
        row = {header[i]: cells[i].strip() for i in range(len(cells)) if header[i]}
        name = row.pop("file", "")
        if not name:
            problems.append((rel, f"line {line_no}: no file name"))
            continue
        if name.startswith("/") or ".." in PurePosixPath(name.replace("\\", "/")).parts:
            problems.append((rel, f"line {line_no}: file {name!r} must be relative to the sidecar's folder"))
            continue
        values = {k: v for k, v in row.items() if v}
        error = _validate(values)
        if error:
            problems.append((rel, f"line {line_no}: {error}"))
            continue
        rows.append((name.replace("\\", "/"), values))
    return rows


def _validate(values: dict[str, str]) -> str:
    year = values.get("year")
    if year is not None and not (year.isdigit() and 1949 <= int(year) <= 2100):
        return f"bad year {year!r} (want four digits, e.g. 2023)"
    date = values.get("date")
    if date is not None:
        match = _DATE.match(date)
        if not match:
            return f"bad date {date!r} (want yyyy-mm-dd)"
        y, m, d = (int(g) for g in match.groups())
        if not (1 <= m <= 12 and 1 <= d <= 31):
            return f"bad date {date!r} (no such month/day)"
        values["date"] = f"{y:04d}-{m:02d}-{d:02d}"
    return ""
