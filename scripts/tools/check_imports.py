"""Check the import graph of indexer/ and search_web/: no cycle, no arrow running up the layers.

    python -m scripts.tools.check_imports             # exit 0, or 1 naming each offending edge / cycle / misplaced module
    python -m scripts.tools.check_imports --root DIR  # check another checkout (the tests plant violations in a copy)

Every `import` counts, also one inside a function (a late import is still a dependency), except those under
`if TYPE_CHECKING:` (annotations only). The layers are the design's (docs/design.md), bottom first: a module
may import from its own layer and the layers below it, never from one above.
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout (this file is scripts/tools/check_imports.py)
PACKAGES = ("indexer", "search_web")

# The layers are the folders of indexer/ (each top-level sub-package is one layer), then the web package, then
# indexer/__init__.py (the public names re-exported for users). Only their order is written here, bottom first;
# which module is in which layer is read from where its file lives. Folders on one line are one layer.
LAYER_FOLDERS: tuple[tuple[str, ...], ...] = (
    ("core",),        # configuration, document model, fault injection, text analysis, query trees, filters
    ("pipeline",),    # ingest: scan → load → clean → structure → metadata → chunk; figures of a paragraph
    ("storage",),     # catalog, full text, vectors, manifest, generations, integrity
    ("build",),       # plan → write → report; Index
    ("engines",),     # engines/local, engines/milvus behind engines/base
    ("search",),      # Searcher: retrieval, fusion, highlighting
    ("operations",),  # index → publish → status, for CLI, web, eval and cron alike
    ("evaluation", "cli"),
)
LAYERS: tuple[str, ...] = tuple("/".join(f) for f in LAYER_FOLDERS) + ("web", "public api")
WEB, PUBLIC = len(LAYER_FOLDERS), len(LAYER_FOLDERS) + 1


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int | None:
    """The layer of a module, from its folder; None for a module outside every layer folder (to be placed)."""
    parts = module.split(".")
    if parts[0] == "search_web":
        return WEB
    if module == "indexer":
        return PUBLIC
    for i, folders in enumerate(LAYER_FOLDERS):
        if parts[1] in folders:
            return i
    return None


def misplaced(g: dict[str, set[str]]) -> list[str]:
    return [f"misplaced module: {m} is in no layer folder of indexer/ ({', '.join(LAYERS[:WEB])}); move it into "
            "one, or add its folder to LAYER_FOLDERS" for m in sorted(g) if layer_of(m) is None]


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    skip: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skip.update(ast.walk(child))
    return skip


def imports_of(path: Path, modules: set[str], root: Path = ROOT) -> set[str]:
    """Our modules that `path` imports (a `from pkg import name` naming a submodule counts as that one)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _type_checking_only(tree)
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if node in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:  # `import indexer.pipeline.load.text` -> the deepest module we have
                name = name.rpartition(".")[0]
            if name and name != me:
                found.add(name)
    return found


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in sorted((root / pkg).rglob("*.py"))]
    modules = {module_name(p, root) for p in files}
    return {module_name(p, root): imports_of(p, modules, root) for p in files}


def upward_edges(g: dict[str, set[str]]) -> list[str]:
    out = []
    for src, targets in sorted(g.items()):
        for dst in sorted(targets):
            a, b = layer_of(src), layer_of(dst)
            if a is not None and b is not None and b > a:
                out.append(f"upward import: {src} ({LAYERS[a]}) -> {dst} ({LAYERS[b]})")
    return out


def cycles(g: dict[str, set[str]]) -> list[str]:
    """One line per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[str] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                members = set(component)
                edges = [f"{a} -> {b}" for a in sorted(members) for b in sorted(g[a] & members)]
                out.append("import cycle: " + "; ".join(edges))

    sys.setrecursionlimit(10_000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to check (default: this one)")
    g = graph(parser.parse_args(argv).root.resolve())
    problems = misplaced(g) + upward_edges(g) + cycles(g)
    for line in problems:
        print(line)
    if not problems:
        print(f"imports ok: {len(g)} modules, {sum(map(len, g.values()))} edges, {len(LAYERS)} layers, no cycle")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
