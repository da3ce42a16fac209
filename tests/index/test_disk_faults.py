"""Machine faults while writing (issue 29, point 6): a disk that fills up during the sentence-vector write
gives the documented one-line disk-full message with a space estimate that counts the sentence vectors, and
a folder the indexing user may not write is "permission denied" naming it, not "read-only file system"."""
from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys

import pytest

from indexer.build.index import Index
from indexer.core.config import Config, EmbeddingSettings
from indexer.core.faults import describe_fault, fault_errno
from indexer.storage.generations import GenerationStore
from tests.conftest import SAMPLE_CORPUS
from tests.index.test_repair import FILES, REPO, _used, cli, env_for, needs_setpriv, small_tmpfs  # noqa: F401  (fixture)

SENTENCES = "sentence_vectors.npy"


def test_a_short_write_without_errno_is_a_full_disk(tmp_path):
    """numpy's np.save reports a full device as `OSError: N requested and M written` (no errno)."""
    exc = OSError("549888 requested and 300992 written")
    assert fault_errno(exc) == errno.ENOSPC
    line = describe_fault(exc, [tmp_path], written=6_300_000, needed=8_500_000)
    assert line.startswith("disk full: no space left on device writing ") and "needs about 8.50 MB" in line


def test_disk_full_during_the_sentence_vector_write_is_one_line_with_an_estimate_that_fits(
        build_index, small_tmpfs, embedding_cache):
    # The sample reports: paragraphs of several sentences, so the sentence vectors are a real share.
    reports = {p.name: p.read_bytes() for p in SAMPLE_CORPUS.glob("*.txt")}
    config, rep = build_index(reports)  # embeds everything into the session cache, elsewhere
    assert rep.exit_code == 0
    whole = GenerationStore(config.index_dir).current_path()
    size = sum(p.stat().st_size for p in whole.rglob("*") if p.is_file())
    sentences = (whole / SENTENCES).stat().st_size
    first = Config(corpus_dir=build_index.corpus, index_dir=small_tmpfs / "index",
                   embedding=EmbeddingSettings(cache=embedding_cache))
    # A first build, paused just before it writes the sentence vectors; then the disk keeps only room for
    # half of them.
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", str(build_index.corpus), "--no-progress"],
                            cwd=REPO, env=dict(env_for(first), REPORTSEARCH_PAUSE_AT="sentences"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "pausing at stage sentences" in line:
            break
    subprocess.run(["mount", "-o", f"remount,size={_used(small_tmpfs) + sentences // 2}", str(small_tmpfs)],
                   check=True)
    os.kill(proc.pid, signal.SIGUSR1)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 2, stdout + stderr
    assert "Traceback" not in stderr and "requested and" not in stdout + stderr
    error = [line for line in stdout.splitlines() if line.startswith("ERROR: ")]
    assert len(error) == 1 and error[0].startswith("ERROR: disk full: no space left on device writing "), stdout + stderr[-3000:]
    needed = float(error[0].split("a new generation needs about ")[1].split(" MB")[0]) * 1e6
    assert needed >= size * 0.97, f"asked for {needed:,.0f} bytes, a generation takes {size:,}: {error[0]}"
    # With room again the same build succeeds (a build needs more while it writes than it keeps).
    subprocess.run(["mount", "-o", f"remount,size={_used(small_tmpfs) + 2 * int(needed)}", str(small_tmpfs)],
                   check=True)
    assert Index(first).build(progress=False).exit_code == 0


@needs_setpriv
def test_a_cache_folder_without_write_permission_is_permission_denied_naming_it(build_index, tmp_path):
    cache = tmp_path / "cache" / "embeddings.sqlite"
    config, _ = build_index(FILES, embedding_cache=str(cache))
    (build_index.corpus / "d.txt").write_text(FILES["a.txt"].replace("石门乡", "白石乡"), encoding="utf-8")
    cache.parent.chmod(0o555)
    try:
        done = cli(["index", str(build_index.corpus), "--no-progress"],
                   dict(env_for(config), REPORTSEARCH_EMBEDDING_CACHE=str(cache)), drop_dac=True)
    finally:
        cache.parent.chmod(0o755)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stdout + done.stderr
    out = done.stdout + done.stderr
    assert "read-only file system" not in out and "remount" not in out
    assert f"permission denied: cannot write {cache.parent}; give the indexing user write access" in out
