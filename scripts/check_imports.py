"""Check the import graph of indexer/ and search_web/: no cycle, no arrow running up the layers.

    python scripts/check_imports.py        # exit 0, or 1 naming each offending edge / cycle

Every `import` counts, also one inside a function (a late import is still a dependency), except those under
`if TYPE_CHECKING:` (annotations only). The layers are the design's (docs/design.md), bottom first: a module
may import from its own layer and the layers below it, never from one above.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("indexer", "search_web")

# Bottom first. A module belongs to the layer of the longest prefix that names it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core", ("indexer.config", "indexer.document", "indexer.faults")),
    ("pipeline", ("indexer.load", "indexer.clean", "indexer.structure", "indexer.metadata", "indexer.chunk",
                  "indexer.gazetteer", "indexer.places", "indexer.report_year", "indexer.title",
                  "indexer.ingest", "indexer.scan", "indexer.lines",
                  # figures/: quantified claims of a paragraph (standard library, cn2an, jieba; not wired in yet)
                  "indexer.figures")),
    ("base", ("indexer.base",)),
    ("index parts", ("indexer.fulltext", "indexer.vectors", "indexer.catalog", "indexer.catalog_rows",
                     "indexer.dedup", "indexer.layout", "indexer.manifest")),
    ("build", ("indexer.generations", "indexer.integrity", "indexer.plan", "indexer.run_report",
               "indexer.embedding_input", "indexer.write", "indexer.build")),
    ("engines", ("indexer.engines",)),
    ("search", ("indexer.search",)),
    ("apps", ("indexer.evaluation", "indexer.cli_args", "indexer.cli",
              "indexer.figures.evaluate_groups")),  # scores figures/grouping with the embedding model
    ("web", ("search_web",)),
    # indexer/__init__.py: the library's public names (Config, Index, Searcher, ...) re-exported for users.
    ("public api", ("indexer",)),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# Entries that name one module, not a package's subtree (a new indexer.x must be placed, not fall to the top).
EXACT = {"indexer"}


def layer_of(module: str) -> int:
    best, depth = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            inside = module == p or (p not in EXACT and module.startswith(p + "."))
            if inside and p.count(".") > depth:
                best, depth = i, p.count(".")
    if best < 0:
        raise SystemExit(f"check_imports: {module} is in no layer; add it to LAYERS")
    return best


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    skip: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skip.update(ast.walk(child))
    return skip


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Our modules that `path` imports (a `from pkg import name` naming a submodule counts as that one)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _type_checking_only(tree)
    me = module_name(path)
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
            while name and name not in modules:  # `import indexer.load.text` -> the deepest module we have
                name = name.rpartition(".")[0]
            if name and name != me:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    modules = {module_name(p) for p in files}
    return {module_name(p): imports_of(p, modules) for p in files}


def upward_edges(g: dict[str, set[str]]) -> list[str]:
    out = []
    for src, targets in sorted(g.items()):
        for dst in sorted(targets):
            a, b = layer_of(src), layer_of(dst)
            if b > a:
                out.append(f"upward import: {src} ({LAYERS[a][0]}) -> {dst} ({LAYERS[b][0]})")
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


def main() -> int:
    g = graph()
    problems = upward_edges(g) + cycles(g)
    for line in problems:
        print(line)
    if not problems:
        print(f"imports ok: {len(g)} modules, {sum(map(len, g.values()))} edges, {len(LAYERS)} layers, no cycle")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
