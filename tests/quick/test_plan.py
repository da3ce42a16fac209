"""The plan of an indexing run (indexer/build/plan.py): what changed between the corpus and the catalog, decided
from the scan and the catalog's rows alone -- no model, no index."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from indexer.storage.catalog import DocRow
from indexer.core.document import DocumentMeta
from indexer.build.plan import make_plan, new_doc_id, sha256_file
from indexer.build.report import RunReport
from indexer.pipeline.scan import CorpusFile, FileFailure, ScanResult


def _file(tmp_path: Path, rel: str, text: str, mtime_ns: int = 1) -> tuple[CorpusFile, str]:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return CorpusFile(path, rel, path.stat().st_size, mtime_ns), hashlib.sha256(text.encode()).hexdigest()


def _row(doc_id: str, f: CorpusFile, digest: str, overrides: str = "{}") -> DocRow:
    return DocRow(doc_id, f.rel_path, "txt", digest, f.size, f.mtime_ns, overrides, DocumentMeta())


def _plan(files, rows=(), aliases=None, overrides=None, reparse_all=False, failures=(), failed_dirs=()):
    report = RunReport(corpus="c", started="now")
    scan = ScanResult(files=list(files), failures=list(failures), failed_dirs=list(failed_dirs))
    plan = make_plan(scan, list(rows), aliases or {}, overrides or {}, reparse_all, report)
    return plan, report


def test_first_run_adds_every_file_with_distinct_ids(tmp_path):
    a, _ = _file(tmp_path, "a.txt", "甲镇报告")
    b, _ = _file(tmp_path, "b/b.txt", "乙镇报告")
    plan, report = _plan([a, b])
    assert sorted(report.added) == ["a.txt", "b/b.txt"]
    assert [f.rel_path for f, *_ in plan.to_parse] == ["a.txt", "b/b.txt"]
    assert len({doc_id for _f, doc_id, _h, _ov in plan.to_parse}) == 2
    assert not (plan.deletes or plan.renames or report.changed or report.deleted)


def test_unchanged_file_is_not_read_again_and_its_hash_is_not_recomputed(tmp_path):
    a, digest = _file(tmp_path, "a.txt", "甲镇报告")
    a.abs_path.unlink()  # size and mtime match the catalog: the catalog's hash is trusted, the file not opened
    plan, report = _plan([a], [_row("d1", a, digest)])
    assert plan.to_parse == [] and plan.unchanged == 1 and report.unchanged == 1
    assert plan.touched == []


def test_touched_file_with_same_content_only_updates_mtime(tmp_path):
    a, digest = _file(tmp_path, "a.txt", "甲镇报告", mtime_ns=1)
    known = _row("d1", a, digest)
    touched = CorpusFile(a.abs_path, a.rel_path, a.size, 2)
    plan, report = _plan([touched], [known])
    assert plan.to_parse == [] and plan.touched == [("d1", touched)]
    assert report.changed == []


def test_changed_content_is_reparsed_under_the_same_id(tmp_path):
    a, old = _file(tmp_path, "a.txt", "旧内容")
    known = _row("d1", a, old)
    new, digest = _file(tmp_path, "a.txt", "新内容更长一些", mtime_ns=5)
    plan, report = _plan([new], [known])
    assert [(f.rel_path, doc_id, h) for f, doc_id, h, _ov in plan.to_parse] == [("a.txt", "d1", digest)]
    assert report.changed == ["a.txt"] and report.added == []


def test_new_sidecar_metadata_reparses_an_unchanged_file(tmp_path):
    a, digest = _file(tmp_path, "a.txt", "甲镇报告")
    plan, report = _plan([a], [_row("d1", a, digest)], overrides={"a.txt": {"year": "2023"}})
    assert [doc_id for _f, doc_id, _h, _ov in plan.to_parse] == ["d1"]
    assert report.changed == ["a.txt"]


def test_moved_file_is_a_rename_that_keeps_its_id(tmp_path):
    old, digest = _file(tmp_path, "old/a.txt", "甲镇报告")
    known = _row("d1", old, digest)
    old.abs_path.unlink()
    moved, _ = _file(tmp_path, "new/a.txt", "甲镇报告")
    plan, report = _plan([moved], [known])
    assert plan.renames == [("d1", moved)] and plan.to_parse == []
    assert report.renamed == [["old/a.txt", "new/a.txt"]]
    assert plan.deletes == [] and report.deleted == [] and report.added == []


def test_rename_under_full_rebuild_is_reparsed_but_still_keeps_its_id(tmp_path):
    old, digest = _file(tmp_path, "old.txt", "甲镇报告")
    known = _row("d1", old, digest)
    moved, _ = _file(tmp_path, "new.txt", "甲镇报告")
    plan, report = _plan([moved], [known], reparse_all=True)
    assert plan.renames == [] and [d for _f, d, _h, _o in plan.to_parse] == ["d1"]
    assert report.renamed == [["old.txt", "new.txt"]]


def test_vanished_file_is_deleted(tmp_path):
    a, da = _file(tmp_path, "a.txt", "甲镇报告")
    b, db = _file(tmp_path, "b.txt", "乙镇报告")
    plan, report = _plan([a], [_row("d1", a, da), _row("d2", b, db)])
    assert plan.deletes == ["d2"] and report.deleted == ["b.txt"]


def test_identical_files_are_indexed_once_and_the_known_path_stays_primary(tmp_path):
    known, digest = _file(tmp_path, "z.txt", "同一份报告")
    copy, _ = _file(tmp_path, "a.txt", "同一份报告")
    plan, report = _plan([copy, known], [_row("d1", known, digest)])
    assert plan.unchanged == 1 and plan.to_parse == []
    assert report.duplicates == [["a.txt", "z.txt"]]
    assert plan.aliases == {"a.txt": ("d1", copy.size, copy.mtime_ns)}


def test_unreadable_file_keeps_its_indexed_version(tmp_path):
    a, digest = _file(tmp_path, "a.txt", "甲镇报告")
    known = _row("d1", a, digest)
    changed = CorpusFile(tmp_path / "gone.txt", "a.txt", a.size + 1, 9)  # must be hashed, cannot be read
    plan, report = _plan([changed], [known])
    assert plan.deletes == [] and plan.to_parse == []
    assert [(f["path"], f["kept_previous"]) for f in report.failures] == [("a.txt", True)]
    assert report.failures[0]["reason"].startswith("cannot read file")


def test_documents_under_an_unlistable_folder_are_kept_not_deleted(tmp_path):
    a, da = _file(tmp_path, "locked/a.txt", "甲镇报告")
    b, db = _file(tmp_path, "open/b.txt", "乙镇报告")
    aliases = {"locked/copy.txt": ("d1", 1, 1)}
    plan, report = _plan([b], [_row("d1", a, da), _row("d2", b, db)], aliases=aliases,
                         failures=[FileFailure("locked", "permission denied")], failed_dirs=["locked"])
    assert plan.deletes == [] and plan.hidden == ["locked/a.txt"]
    assert plan.aliases == aliases
    assert report.failures == [{"path": "locked", "reason": "permission denied (1 indexed documents under it kept)",
                                "kept_previous": True}]


def test_new_doc_id_avoids_ids_in_use():
    first = new_doc_id("a.txt", set())
    assert new_doc_id("a.txt", set()) == first  # stable: derived from the path
    second = new_doc_id("a.txt", {first})
    assert second != first and len(second) == 12


def test_sha256_file_reads_in_blocks(tmp_path):
    path = tmp_path / "big.bin"
    data = b"x" * (3 << 20) + b"tail"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    with pytest.raises(OSError):
        sha256_file(tmp_path / "missing.bin")
