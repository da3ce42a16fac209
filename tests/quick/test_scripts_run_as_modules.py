"""Every tool, benchmark and lab under scripts/ runs as a module from the checkout (`python -m
scripts.benchmarks.bench_query --help`) without patching sys.path, and answers --help without loading the model."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("tools", "benchmarks", "labs")
HELPERS = {"scripts.benchmarks.common"}  # imported by the benchmarks, not run
MODULES = sorted(f"scripts.{folder}.{path.stem}" for folder in FOLDERS
                 for path in (ROOT / "scripts" / folder).glob("*.py")
                 if path.stem != "__init__" and f"scripts.{folder}.{path.stem}" not in HELPERS)

# One interpreter runs each module as `python -m` does (runpy, run_name "__main__") with --help: a child per
# module would spend most of the time importing the same libraries again.
_CHILD = """
import contextlib, io, json, runpy, sys, warnings
warnings.simplefilter("ignore", RuntimeWarning)  # runpy: a module already imported by an earlier one
out = {}
for name in sys.argv[1:]:
    sys.argv = [name, "--help"]
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            runpy.run_module(name, run_name="__main__", alter_sys=True)
        code = "returned without exiting"
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:
        code = f"{type(exc).__name__}: {exc}"
    out[name] = {"code": code, "help": buf.getvalue()}
out["loaded"] = sorted(m for m in ("torch", "sentence_transformers") if m in sys.modules)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def helps() -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, *MODULES], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_the_scripts_are_found() -> None:
    assert {"scripts.tools.check_imports", "scripts.benchmarks.bench_query", "scripts.labs.relevance_lab"} <= set(MODULES)
    assert len(MODULES) >= 20
    # scripts/ itself holds its package file and the old cron path: every program is in tools/, benchmarks/, labs/
    assert sorted(p.name for p in (ROOT / "scripts").iterdir() if p.is_file()) == ["__init__.py", "reindex.sh"]


@pytest.mark.parametrize("module", MODULES)
def test_each_script_answers_help_as_a_module_without_patching_sys_path(module: str, helps: dict) -> None:
    source = (ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
    assert "sys.path" not in source
    assert helps[module]["code"] == 0, helps[module]
    assert helps[module]["help"].startswith("usage: ")


def test_help_loads_no_model(helps: dict) -> None:
    assert helps["loaded"] == []


def test_a_crontab_naming_the_old_path_runs_the_cron_tool(tmp_path: Path) -> None:
    """scripts/reindex.sh (where crontabs written before the split point) hands over to scripts/tools/reindex.sh:
    without a venv the tool answers with its own message and exit code 2, whatever the cron job's cwd."""
    env = dict(os.environ, REPORTSEARCH_VENV=str(tmp_path / "no-venv"), REPORTSEARCH_LOG_DIR=str(tmp_path / "log"))
    done = subprocess.run([str(ROOT / "scripts" / "reindex.sh"), str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"no-venv/bin/reportsearch not found; run 'make install' in {ROOT} first" in done.stderr
