"""The Milvus client and Lite versions setup.py pins are the ones installed (and so tested), and the server
image the compose file pins is the one docs/milvus.md states."""
from __future__ import annotations

import ast
import re
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _extras() -> dict[str, list[str]]:
    call = next(n for n in ast.walk(ast.parse((ROOT / "setup.py").read_text())) if isinstance(n, ast.Call)
                and getattr(n.func, "id", "") == "setup")
    extras = next(k.value for k in call.keywords if k.arg == "extras_require")
    return ast.literal_eval(extras)


def test_setup_pins_the_installed_milvus_packages():
    for extra in ("milvus", "test"):
        pins = {r.split("==")[0]: r.split("==")[1] for r in _extras()[extra] if r.startswith(("pymilvus", "milvus-lite"))}
        assert pins == {"pymilvus": version("pymilvus"), "milvus-lite": version("milvus-lite")}, (extra, pins)


def test_compose_server_version_is_the_documented_one():
    compose = (ROOT / "deploy" / "milvus" / "docker-compose.yml").read_text()
    tag = re.search(r"image: milvusdb/milvus:(v[\d.]+)", compose).group(1)
    docs = (ROOT / "docs" / "milvus.md").read_text()
    assert f"milvusdb/milvus:{tag}" in docs and f"pymilvus {version('pymilvus')}" in docs
