"""Operators' way out (issue 13): every damaged index is repaired by the next run (`index --full`, or a plain
`index` where the damage is detectable), machine faults exit 2 with one clear line, and nothing a fault hides
is deleted. Real builds, real files, real damage (truncate, garble, delete, tmpfs, dropped capabilities)."""
from __future__ import annotations

import errno
import fcntl
import json
import os
import pty
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from indexer.build.index import Index
from indexer.storage.catalog import Catalog
from indexer.core.config import Config, EmbeddingSettings
from indexer.storage.generations import GenerationStore
from indexer.search.searcher import IndexNotFound, Searcher
from indexer.search.types import SearchRequest

REPO = Path(__file__).resolve().parents[2]


def report(place: str, practice: str) -> str:
    return (f"{place}2023年法治政府建设工作报告\n\n一、主要做法和成效\n\n{practice}\n\n"
            "二、存在问题\n\n乡镇执法人员数量不足，专业化水平有待进一步提高。\n")


BENCH = "石门乡创新推行“板凳调解”工作法，组织老党员、老干部在村口板凳上调解邻里纠纷，全年化解矛盾五十余起。"
LAWYER = "青山镇为每个行政村聘请一名法律顾问，每月到村坐班一天，为群众提供免费法律咨询二百余人次。"
FRAUD = "柳林乡开展防范电信诈骗宣传进农户活动，发放宣传资料三千余份，群众识骗防骗能力明显提升。"
CLINIC = "桃源镇与县司法局共建“法律诊所”，每周二由律师在镇便民服务中心接待群众，全年解答咨询一百六十余件。"
FILES = {"a.txt": report("石门乡", BENCH), "b.txt": report("青山镇", LAWYER), "sub/c.txt": report("柳林乡", FRAUD)}

_ENCODER: list = [None]


@pytest.fixture(autouse=True)
def _share_encoder(encoder):
    _ENCODER[0] = encoder


def places(config, query: str, mode: str = "keyword") -> set[str]:
    s = Searcher.open(config, _ENCODER[0])
    try:
        return {h.place for h in s.search(SearchRequest(query=query, mode=mode, size=50)).hits}
    finally:
        s.close()


def paths(config, query: str) -> set[str]:
    s = Searcher.open(config, _ENCODER[0])
    try:
        return {h.path for h in s.search(SearchRequest(query=query, mode="keyword", size=50)).hits}
    finally:
        s.close()


def state(config) -> tuple[int, int, set[int]]:
    """(documents, chunks, chunk ids) of the published generation."""
    cat = Catalog(GenerationStore(config.index_dir).current_path() / "catalog.sqlite")
    try:
        return cat.document_count(), cat.chunk_count(), set(cat.chunk_ids().tolist())
    finally:
        cat.close()


def fresh_state(corpus: Path, tmp_path: Path, embedding_cache: Path) -> tuple[int, int, set[int]]:
    config = Config(corpus_dir=corpus, index_dir=tmp_path / "fresh", embedding=EmbeddingSettings(cache=embedding_cache))
    assert Index(config, _ENCODER[0]).build(progress=False).exit_code == 0
    return state(config)


def assert_works_like_a_fresh_build(config, tmp_path, embedding_cache) -> None:
    assert state(config) == fresh_state(Path(config.corpus_dir), tmp_path, embedding_cache)
    assert places(config, "板凳调解") == {"石门乡"}
    assert "柳林乡" in places(config, "怎样防止老年人被电信诈骗", "semantic")
    assert not Index(config).status().get("damaged")


def gen_dir(config) -> Path:
    return GenerationStore(config.index_dir).current_path()


def garble(path: Path, offset: int, n: int = 4096) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(os.urandom(n))


def cli(args: list[str], env: dict | None = None, drop_dac: bool = False, timeout: int = 300,
        **kw) -> subprocess.CompletedProcess:
    """Run `reportsearch ARGS`; with drop_dac as root but without the capability to override file modes
    (what an ordinary user meets: chmod 000 is unreadable)."""
    command = [sys.executable, "-m", "indexer.cli", *args]
    if drop_dac and os.geteuid() == 0:
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", *command]
    return subprocess.run(command, cwd=REPO, env=env or dict(os.environ), capture_output=True, text=True,
                          timeout=timeout, **kw)


def env_for(config) -> dict:
    return dict(os.environ, REPORTSEARCH_INDEX_DIR=str(config.index_dir),
                REPORTSEARCH_EMBEDDING_CACHE=str(config.embedding.cache))


needs_setpriv = pytest.mark.skipif(os.geteuid() == 0 and shutil.which("setpriv") is None,
                                   reason="root ignores file modes; setpriv is needed to drop that capability")


# -- 1. a corrupt catalog ------------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["truncated", "header", "middle", "middle-no-manifest"])
def test_a_corrupt_catalog_is_rebuilt_from_the_corpus_by_index_full(build_index, tmp_path, embedding_cache, damage):
    config, _ = build_index(FILES)
    catalog = gen_dir(config) / "catalog.sqlite"
    if damage == "truncated":
        os.truncate(catalog, 0)
    elif damage == "header":
        garble(catalog, 0, 100)
    else:
        garble(catalog, catalog.stat().st_size // 2)
        if damage == "middle-no-manifest":  # a generation published before manifests: found when read
            (gen_dir(config) / "MANIFEST.json").unlink()
    damaged = gen_dir(config).name
    if damage != "middle-no-manifest":
        assert "catalog.sqlite" in " ".join(Index(config).status()["damaged"])
    _, rep = build_index(full=True)
    assert rep.exit_code == 0, rep.summary()
    assert rep.repairs and "rebuilt from the corpus" in rep.repairs[0]
    assert gen_dir(config).name != damaged
    assert_works_like_a_fresh_build(config, tmp_path, embedding_cache)


# -- 2. garbage or empty CURRENT -----------------------------------------------------------------------------
@pytest.mark.parametrize("content", [b"\xff\xfegarbage", b"", b"g000001/../../etc\n"])
def test_a_garbled_current_is_named_and_index_repairs_it(build_index, tmp_path, embedding_cache, content):
    config, _ = build_index(FILES)
    current = Path(config.index_dir) / "CURRENT"
    current.write_bytes(content)
    with pytest.raises(IndexNotFound) as err:
        Searcher.open(config, _ENCODER[0])
    assert str(current) in str(err.value) and "reportsearch index --full" in str(err.value)
    done = cli(["status"], env_for(config))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stdout.startswith(f"index damaged: {current} is damaged") and "run `reportsearch index --full`" in done.stdout
    _, rep = build_index()  # a plain run repairs it (a fresh generation from the corpus)
    assert rep.exit_code == 0 and "CURRENT" in rep.repairs[0], rep.summary()
    assert_works_like_a_fresh_build(config, tmp_path, embedding_cache)


# -- 3. a corrupt embedding cache ----------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_embedding_cache_is_moved_aside_and_the_run_goes_on(build_index, tmp_path, embedding_cache, damage):
    cache = tmp_path / "own-cache" / "embeddings.sqlite"
    config, rep = build_index(FILES, embedding_cache=str(cache))
    assert rep.exit_code == 0
    if damage == "garbage":
        cache.write_bytes(b"not a database " * 100)
    else:
        os.truncate(cache, cache.stat().st_size // 3)
        for suffix in ("-wal", "-shm"):
            Path(f"{cache}{suffix}").unlink(missing_ok=True)
    _, rep = build_index(full=True, embedding_cache=str(cache))
    assert rep.exit_code == 0, rep.summary()
    assert any("embedding cache" in r and "moved aside" in r for r in rep.repairs), rep.repairs
    assert Path(f"{cache}.damaged").exists() and rep.embedded == rep.chunks
    _, rep = build_index(full=True, embedding_cache=str(cache))  # the new cache serves the next run
    assert rep.embedded == 0 and not rep.repairs
    assert_works_like_a_fresh_build(config, tmp_path, embedding_cache)


# -- 4. a damaged published generation is not trusted by a plain `index` ------------------------------------
def _segment(gen: Path) -> Path:
    return max((gen / "fulltext").glob("*.seg"), key=lambda p: p.stat().st_size)


DAMAGE = {
    "vectors deleted": lambda g: (g / "vectors.faiss").unlink(),
    "vectors truncated": lambda g: os.truncate(g / "vectors.faiss", 1000),
    "fulltext removed": lambda g: shutil.rmtree(g / "fulltext"),
    "READY removed": lambda g: (g / "READY").unlink(),
    "segment garbled": lambda g: garble(_segment(g), 200, 2000),
    "catalog garbled": lambda g: garble(g / "catalog.sqlite", 4096 * 3),
}


@pytest.mark.parametrize("what", list(DAMAGE))
def test_plain_index_repairs_a_damaged_published_generation(build_index, tmp_path, embedding_cache, what):
    config, _ = build_index(FILES)
    damaged = gen_dir(config).name
    DAMAGE[what](gen_dir(config))
    status = Index(config).status()
    assert status["damaged"] and status["repair"] == "reportsearch index --full"
    _, rep = build_index()
    assert rep.exit_code == 0 and rep.repairs, rep.summary()
    assert gen_dir(config).name != damaged, "a repaired generation is published"
    assert_works_like_a_fresh_build(config, tmp_path, embedding_cache)


def test_status_and_stats_say_index_damaged_instead_of_a_traceback(build_index):
    config, _ = build_index(FILES)
    os.truncate(gen_dir(config) / "vectors.faiss", 1000)
    done = cli(["status"], env_for(config))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stdout.splitlines()[0] == (f"index damaged: {gen_dir(config).name}/vectors.faiss has 1,000 bytes, "
                                           f"{_published_size(config, 'vectors.faiss'):,} when published, "
                                           "run `reportsearch index --full`")
    done = cli(["stats"], env_for(config))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "index damaged" in done.stderr and "reportsearch index --full" in done.stderr


def _published_size(config, name: str) -> int:
    return json.loads((gen_dir(config) / "MANIFEST.json").read_text())["files"][name]["size"]


# -- 5. disk full, read-only and permission-denied index folders --------------------------------------------
@pytest.fixture
def small_tmpfs(tmp_path):
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _used(mnt: Path) -> int:
    st = os.statvfs(mnt)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def test_a_full_disk_exits_2_with_one_line_and_leaves_nothing_behind(build_index, small_tmpfs, embedding_cache):
    more = {f"more/{i}.txt": report(f"东{i}乡", BENCH.replace("五十", f"{i + 60}")) * 3 for i in range(12)}
    # Embed everything once elsewhere, so the run on the small disk spends its time writing, not embedding.
    build_index({**FILES, **more})
    for name in more:
        (build_index.corpus / name).unlink()
    config = Config(corpus_dir=build_index.corpus, index_dir=small_tmpfs / "index",
                    embedding=EmbeddingSettings(cache=embedding_cache))
    assert Index(config, _ENCODER[0]).build(progress=False).exit_code == 0
    published = GenerationStore(config.index_dir).current_name()
    # Room for what is there plus a little: the next generation (three times the text) cannot fit.
    size = _used(small_tmpfs) + 64 * 1024
    subprocess.run(["mount", "-o", f"remount,size={size}", str(small_tmpfs)], check=True)
    build_index(more)
    done = cli(["index", str(build_index.corpus), "--no-progress"], env_for(config))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    error = [line for line in done.stdout.splitlines() if line.startswith("ERROR: ")]
    assert len(error) == 1 and "disk full: no space left on device" in error[0] and " MB free now" in error[0]
    assert "a new generation needs about" in error[0]
    index_dir = Path(config.index_dir)
    assert not (index_dir / "index-report.tmp").exists()
    saved = json.loads((index_dir / "index-report.json").read_text(encoding="utf-8"))
    assert saved["status"] == "failed" and saved["exit_code"] == 2 and saved["error"] == error[0][len("ERROR: "):]
    store = GenerationStore(index_dir)
    assert store.current_name() == published and store.names() == [published]
    assert not [p for p in store.gen_root.iterdir() if ".build-" in p.name], "the failed build was removed"
    assert places(config, "板凳调解") == {"石门乡"}, "the published index still answers"
    # With space again the next run succeeds.
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_tmpfs)], check=True)
    assert Index(config, _ENCODER[0]).build(progress=False).exit_code == 0


def test_a_read_only_index_folder_exits_2_naming_the_path(build_index, small_tmpfs, embedding_cache):
    config = Config(corpus_dir=build_index.corpus, index_dir=small_tmpfs / "index",
                    embedding=EmbeddingSettings(cache=embedding_cache))
    build_index(FILES)
    assert Index(config, _ENCODER[0]).build(progress=False).exit_code == 0
    (build_index.corpus / "d.txt").write_text(report("桃源镇", LAWYER.replace("青山镇", "桃源镇")), encoding="utf-8")
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    done = cli(["index", str(build_index.corpus), "--no-progress"], env_for(config))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"read-only file system: cannot write {small_tmpfs / 'index'}" in done.stdout + done.stderr
    assert places(config, "板凳调解") == {"石门乡"}


@needs_setpriv
def test_a_permission_denied_index_folder_exits_2_naming_the_path(build_index):
    config, _ = build_index(FILES)
    index_dir = Path(config.index_dir)
    for path in [index_dir, *index_dir.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        done = cli(["index", str(build_index.corpus), "--no-progress"], env_for(config), drop_dac=True)
    finally:
        for path in [index_dir, *index_dir.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"permission denied: cannot write {index_dir / 'index.lock'}" in done.stdout + done.stderr


# -- 6. an unreadable folder keeps its documents ---------------------------------------------------------------
@needs_setpriv
@pytest.mark.parametrize("full", [False, True])
def test_an_unreadable_folder_keeps_its_documents_and_is_listed_as_failed(build_index, full):
    config, _ = build_index({**FILES, "sub/d.txt": report("桃源镇", CLINIC)})
    sub = build_index.corpus / "sub"
    sub.chmod(0)
    try:
        done = cli(["index", str(build_index.corpus), "--no-progress", *(["--full"] if full else [])],
                   env_for(config), drop_dac=True)
    finally:
        sub.chmod(0o755)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "deleted 0" in done.stdout
    assert "FAILED: sub: cannot read folder: Permission denied (2 indexed documents under it kept)" in done.stdout
    assert places(config, "电信诈骗") == {"柳林乡"} and places(config, '"法律诊所"') == {"桃源镇"}
    assert state(config)[0] == 4


# -- 7. a FIFO is skipped, never opened --------------------------------------------------------------------------
def test_a_fifo_is_reported_and_skipped_without_hanging(build_index):
    config, _ = build_index(FILES)
    os.mkfifo(build_index.corpus / "pipe.txt")
    for args in (["--dry-run"], [], ["--full"]):
        done = cli(["index", str(build_index.corpus), "--no-progress", *args], env_for(config), timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "skipped: pipe.txt: not a regular file (a FIFO/named pipe); not read" in done.stdout
    assert state(config)[0] == 3


# -- 8. symlinks out of the corpus and symlink loops --------------------------------------------------------------
def test_symlinks_out_of_the_corpus_are_not_followed_unless_configured(build_index, tmp_path):
    outside = tmp_path / "elsewhere"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.txt").write_text(report("外乡", "外乡的内部材料：不应被检索到的段落，涉及人事安排和考核意见。"), encoding="utf-8")
    (outside / "folder" / "x.txt").write_text(report("外镇", "外镇的内部材料：另一份不应被检索到的文件，涉及经费预算安排。"), encoding="utf-8")
    build_index.corpus.mkdir(parents=True)
    os.symlink(outside / "secret.txt", build_index.corpus / "link.txt")
    os.symlink(outside / "folder", build_index.corpus / "linked-folder")
    # Inside the corpus: a linked file is indexed (once, as a copy of its target); a linked folder's files are
    # indexed under their own path, whatever the links' names sort like.
    os.symlink(build_index.corpus / "sub", build_index.corpus / "inside-link")
    os.symlink(build_index.corpus / "a.txt", build_index.corpus / "z-link.txt")
    config, rep = build_index(FILES)
    assert rep.exit_code == 0, rep.summary()
    skipped = {s["path"]: s["reason"] for s in rep.skipped}
    assert set(skipped) == {"link.txt", "linked-folder"}
    assert "outside the corpus: not followed (set follow_external_symlinks = true" in skipped["link.txt"]
    assert not paths(config, '"内部材料"') and state(config)[0] == 3
    assert sorted(rep.added) == ["a.txt", "b.txt", "sub/c.txt"] and rep.duplicates == [["z-link.txt", "a.txt"]]
    config, rep = build_index(follow_external_symlinks=True)
    assert rep.exit_code == 0 and not rep.skipped and sorted(rep.added) == ["link.txt", "linked-folder/x.txt"]
    assert paths(config, '"内部材料"') == {"link.txt", "linked-folder/x.txt"}


def test_a_symlink_loop_is_a_warning_that_keeps_exit_code_0(build_index):
    build_index.corpus.mkdir(parents=True)
    (build_index.corpus / "sub").mkdir()
    os.symlink("..", build_index.corpus / "sub" / "loop")
    _, rep = build_index(FILES)
    assert rep.exit_code == 0 and not rep.failures
    assert [s["path"] for s in rep.skipped] == ["sub/loop"]
    _, rep = build_index()
    assert rep.exit_code == 0


# -- 9. an unpublished generation takes no keep_generations slot ---------------------------------------------------
def test_a_run_killed_before_the_current_swap_leaves_nothing_that_counts(build_index):
    config, _ = build_index({"a.txt": FILES["a.txt"]}, keep_generations=2)
    store = GenerationStore(config.index_dir)
    build_index({"b.txt": FILES["b.txt"]}, keep_generations=2)
    first, published = store.names()
    (build_index.corpus / "sub").mkdir()
    (build_index.corpus / "sub" / "c.txt").write_text(FILES["sub/c.txt"], encoding="utf-8")
    env = dict(env_for(config), REPORTSEARCH_PAUSE_AT="swap", REPORTSEARCH_KEEP_GENERATIONS="2")
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", str(build_index.corpus), "--no-progress"],
                            cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    for line in proc.stderr:
        if "pausing at stage swap" in line:
            break
        assert time.time() < deadline, "the run never reached the swap"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    unpublished = f"g{int(published[1:]) + 1:06d}"
    assert store.current_name() == published and unpublished in store.names()
    _, rep = build_index({"d.txt": report("桃源镇", LAWYER.replace("青山镇", "桃源镇"))}, keep_generations=2)
    assert rep.exit_code == 0
    assert store.names() == [published, store.current_name()], "two published generations kept"
    assert places(config, "电信诈骗") == {"柳林乡"}


# -- 10. text of ideographic spaces only -----------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16"])
def test_a_file_of_ideographic_spaces_has_no_text(build_index, encoding):
    _, rep = build_index({**FILES, "blank.txt": (("\u3000" * 40 + "\n") * 5).encode(encoding)})
    assert {f["path"]: f["reason"] for f in rep.failures} == {"blank.txt": "file contains no text"}


# -- 11. per-file caps and per-file progress ----------------------------------------------------------------------
def test_a_file_over_the_text_caps_fails_with_the_setting_named(build_index):
    many = "\n\n".join(f"第{i}段：青山镇聘请法律顾问为群众提供法律咨询服务。" for i in range(60))
    config, rep = build_index({**FILES, "huge.txt": report("大坪乡", many)}, max_file_paragraphs=50)
    reasons = {f["path"]: f["reason"] for f in rep.failures}
    assert reasons["huge.txt"].startswith("too many paragraphs: 6") and "> limit 50 (setting max_file_paragraphs)" in reasons["huge.txt"]
    assert rep.exit_code == 1 and state(config)[0] == 3
    _, rep = build_index(max_file_chars=500)
    assert {f["path"]: f["reason"] for f in rep.failures}["huge.txt"].startswith("too much text: ")
    assert "> limit 500 (setting max_file_chars)" in {f["path"]: f["reason"] for f in rep.failures}["huge.txt"]


def test_a_terminal_sees_which_file_is_being_read(build_index):
    config, _ = build_index(FILES)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))  # a terminal has a width
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "index", str(build_index.corpus), "--full", "-q"],
                            cwd=REPO, env=env_for(config), stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError as exc:  # EIO: the child closed the terminal
            if exc.errno == errno.EIO:
                break
            raise
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(timeout=300) == 0
    text = out.decode("utf-8", "replace")
    assert "reading" in text and "sub/c.txt" in text and "3/3" in text


# -- issue 11, point 16: a dry run lists what it can already tell will fail ----------------------------------------
def test_dry_run_lists_files_that_will_fail(build_index, tmp_path):
    config, _ = build_index(FILES)
    corpus = build_index.corpus
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "fake.pdf").write_bytes(b"<!DOCTYPE html><html><body>not a pdf</body></html>")
    (corpus / "broken.docx").write_bytes(b"this is no zip file at all")
    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (corpus / "fine.txt").write_text(report("桃源镇", LAWYER.replace("青山镇", "桃源镇")), encoding="utf-8")
    os.mkfifo(corpus / "pipe.txt")
    locked = corpus / "locked.txt"
    locked.write_text(report("白石乡", BENCH), encoding="utf-8")
    locked.chmod(0)
    try:
        done = cli(["index", str(corpus), "--dry-run"], env_for(config), drop_dac=True, timeout=120)
    finally:
        locked.chmod(0o644)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "will fail: empty.txt: empty file (0 bytes)" in out
    assert "will fail: fake.pdf: not a PDF file (looks like HTML)" in out
    assert "will fail: broken.docx: corrupt .docx (not a valid zip/Word file)" in out
    assert "will fail: image.txt: binary file, not text (looks like a PNG image)" in out
    assert "skipped: pipe.txt: not a regular file (a FIFO/named pipe); not read" in out
    if os.geteuid() != 0 or shutil.which("setpriv"):
        assert "will fail: locked.txt: cannot read file: permission denied" in out
    assert "fine.txt" in out and "will fail: fine.txt" not in out
    assert state(config)[0] == 3, "a dry run changes nothing"


def test_reindex_script_repairs_a_damaged_index_and_says_so_to_cron(build_index, tmp_path):
    config, _ = build_index(FILES)
    (gen_dir(config) / "vectors.faiss").unlink()
    env = dict(env_for(config), REPORTSEARCH_LOG_DIR=str(tmp_path / "log"),
               REPORTSEARCH_VENV=str(Path(sys.executable).parent.parent))
    script = [str(REPO / "scripts" / "tools" / "reindex.sh"), str(build_index.corpus)]
    done = subprocess.run(["bash", *script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "REPAIRED: " in done.stderr and "vectors.faiss is missing" in done.stderr  # cron mails this
    done = subprocess.run(["bash", *script], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stderr == "", "a healthy run stays silent"
    assert places(config, "怎样防止老年人被电信诈骗", "semantic") >= {"柳林乡"}
