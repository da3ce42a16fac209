"""Ingest speed per format: build each format from the sample report (repeated to a decent size) and time
load + clean + structure. Prints characters/s (and pages/s for PDF); `--json out.json` saves the numbers.

    .venv/bin/python -m scripts.benchmarks.bench_ingest [--repeat 10] [--rounds 3] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from indexer.pipeline.clean import clean_blocks
from indexer.pipeline.load import load_file
from indexer.pipeline.load.legacy_format import find_soffice
from indexer.pipeline.structure import build_paragraphs
from tests.fixtures_formats import CJK_FONT, as_txt, build_docx, build_html, build_pdf, report_items


def build_all(folder: Path, repeat: int) -> dict[str, Path]:
    base = report_items()
    items = base[:1] + base[1:] * repeat
    files = {"txt": folder / "r.txt", "docx": folder / "r.docx", "html": folder / "r.html"}
    files["txt"].write_text(as_txt(items), encoding="utf-8")
    build_docx(items, files["docx"], table=True)
    files["html"].write_bytes(build_html(items, encoding="gbk"))
    if CJK_FONT.exists():
        files["pdf"] = build_pdf(items, folder / "r.pdf")
    else:
        print(f"skipping pdf: {CJK_FONT} missing (apt-get install fonts-wqy-zenhei)")
    soffice = find_soffice()
    if soffice:
        import subprocess

        subprocess.run([soffice, f"-env:UserInstallation={(folder / 'lo').as_uri()}", "--headless",
                        "--convert-to", "doc:MS Word 97", "--outdir", str(folder), str(files["docx"])],
                       check=True, capture_output=True, timeout=300)
        files["doc"] = folder / "r.doc"
    else:
        print("skipping doc: LibreOffice not installed")
    return files


def pdf_pages(path: Path) -> int:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(path))
    try:
        return len(document)
    finally:
        document.close()


def measure(path: Path, rounds: int) -> tuple[float, int]:
    best = float("inf")
    chars = 0
    for _ in range(rounds):
        start = time.perf_counter()
        raw = load_file(path, path.name, 1 << 30)
        paragraphs = build_paragraphs(clean_blocks(raw.blocks))
        best = min(best, time.perf_counter() - start)
        chars = sum(len(p.text) for p in paragraphs)
    return best, chars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="copies of the sample report's body per file")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per format (best is reported)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        files = build_all(Path(tmp), args.repeat)
        print(f"{'format':6} {'bytes':>10} {'chars':>8} {'seconds':>8} {'chars/s':>10} {'pages/s':>8}")
        for fmt, path in files.items():
            seconds, chars = measure(path, args.rounds)
            row = {"bytes": path.stat().st_size, "chars": chars, "seconds": round(seconds, 4),
                   "chars_per_s": round(chars / seconds)}
            if fmt == "pdf":
                row["pages"] = pdf_pages(path)
                row["pages_per_s"] = round(row["pages"] / seconds, 2)
            results[fmt] = row
            print(f"{fmt:6} {row['bytes']:>10,} {chars:>8,} {seconds:>8.3f} {row['chars_per_s']:>10,} "
                  f"{row.get('pages_per_s', ''):>8}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
