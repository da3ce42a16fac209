"""Commands other packages add to `reportsearch`: the web package's `serve` arrives through the
`reportsearch.commands` entry point, and the library's CLI works (and says what is missing) without it."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.cli import commands as cli

ROOT = Path(__file__).resolve().parents[2]


def declared_plugins() -> dict[str, str]:
    """The `reportsearch.commands` entry points setup.py declares (what `pip install` registers)."""
    call = next(n for n in ast.walk(ast.parse((ROOT / "setup.py").read_text())) if isinstance(n, ast.Call)
                and getattr(n.func, "id", "") == "setup")
    entry_points = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "entry_points"))
    return dict(tuple(part.strip() for part in line.split("=")) for line in entry_points[cli.PLUGIN_GROUP])


def test_setup_declares_serve_and_the_declared_target_registers_it() -> None:
    declared = declared_plugins()
    assert declared == {"serve": "search_web.commands:register"}
    assert cli.KNOWN_PLUGINS == declared  # an install whose metadata predates the group behaves the same
    args = cli.build_parser(declared).parse_args(["serve", "--port", "5099", "--workers", "1", "--index-dir", "x"])
    from search_web.commands import run_serve

    assert args.run is run_serve and (args.port, args.workers, args.index_dir) == (5099, 1, "x")


def test_a_command_whose_package_is_missing_says_so_in_one_line(capsys) -> None:
    code = cli.main(["serve", "--port", "5099"], plugins={"serve": "no_such_web_package.commands:register"})
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "reportsearch serve" in err and "no_such_web_package" in err


def test_library_commands_never_import_the_web_package(tmp_path: Path) -> None:
    probe = ("import sys; from indexer.cli import commands as cli; code = cli.main(['status', '--index-dir', sys.argv[1]]); "
             "print('search_web' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "index")], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr
    helped = subprocess.run([sys.executable, "-m", "indexer.cli", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert "serve" in helped.stdout  # listed for users all the same


@pytest.mark.parametrize("command", ["search", "figures", "show"])
def test_a_command_without_an_index_says_what_to_run_and_exits_2(tmp_path, capsys, command) -> None:
    argv = [command, "法治" if command != "show" else "a.txt", "--index-dir", str(tmp_path / "none")]
    assert cli.main(argv) == 2
    assert "run `reportsearch index` first" in capsys.readouterr().err
