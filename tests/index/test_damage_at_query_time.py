"""Damaged index files found at query time (issue 29, point 4): a truncated full-text segment gives one line
and exit code 2 in the CLI, 503 with a Chinese message in the web app (pages and API), /api/health says
damaged, and the next `reportsearch index` repairs it -- for both full-text backends."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from indexer.search.searcher import Searcher
from tests.index.test_repair import FILES, cli, env_for, gen_dir

REPAIR = "run `reportsearch index --full`"


def truncate_fulltext(generation: Path) -> str:
    """Cut the largest file of the full-text index to 30% (what `truncate -s 30%` does to a segment)."""
    files = [p for p in (generation / "fulltext").rglob("*") if p.is_file()]
    biggest = max(files, key=lambda p: p.stat().st_size)
    os.truncate(biggest, biggest.stat().st_size * 3 // 10)
    return biggest.name


@pytest.mark.parametrize("backend", ["whoosh", "tantivy"])
def test_a_truncated_segment_is_one_line_and_503_until_the_next_index_repairs_it(build_index, encoder, backend):
    from search_web import create_app

    config, rep = build_index(FILES, fulltext_backend=backend)
    assert rep.exit_code == 0
    # Damaged before the server opens it. (Whoosh maps segments into memory: a segment truncated under a
    # running worker's map kills that worker with SIGBUS; `serve` replaces it, and the new one answers 503.)
    damaged = truncate_fulltext(gen_dir(config))
    searcher = Searcher(config, encoder)  # opens the published generation on the first request
    try:
        client = create_app(config, searcher).test_client()

        for url in ("/api/search?q=板凳调解", "/?q=板凳调解", "/api/search?q=依法行政&mode=keyword"):
            got = client.get(url)
            assert got.status_code == 503, (url, got.status_code, got.get_data(as_text=True)[:300])
            body = got.get_data(as_text=True)
            assert "索引已损坏" in (got.get_json()["error"]["message"] if url.startswith("/api") else body)
        health = client.get("/api/health")
        assert health.status_code == 503 and health.get_json()["status"] == "damaged"
        assert damaged in json.dumps(health.get_json(), ensure_ascii=False)

        env = dict(env_for(config), REPORTSEARCH_FULLTEXT_BACKEND=backend)
        done = cli(["search", "依法行政", "--mode", "keyword"], env)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("错误 error: index damaged: ") and lines[0].endswith(REPAIR)
        assert damaged in lines[0]
        done = cli(["stats"], env)
        assert done.returncode == 2 and "index damaged" in done.stderr and "Traceback" not in done.stderr

        _, rep = build_index(fulltext_backend=backend)  # the next plain run repairs it
        assert rep.exit_code == 0 and rep.repairs, rep.summary()
        assert client.get("/api/search?q=板凳调解").status_code == 200
        health = client.get("/api/health")
        assert health.status_code == 200 and health.get_json()["status"] == "ok"
        assert client.get("/").status_code == 200
    finally:
        searcher.close()
