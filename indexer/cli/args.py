"""The `reportsearch` command line's arguments: the built-in commands and the ones other packages add through
the `reportsearch.commands` entry points (the web package's `serve`)."""
from __future__ import annotations

import argparse
import importlib
import sys
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Mapping

from indexer.core.document import SectionKind
from indexer.core.facets import UNKNOWN
from indexer.engines.factory import ENGINES
from indexer.search.figures import FIGURE_SORTS
from indexer.search.types import MODES

if TYPE_CHECKING:
    from indexer.core.config import Config


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML config file (also REPORTSEARCH_CONFIG)")
    p.add_argument("--index-dir", dest="index_dir", help="index folder (default: index)")
    p.add_argument("--model", help="sentence-transformers model name or path (default: m3e-small)")
    p.add_argument("--engine", choices=ENGINES,
                   help="storage engine (default: local; milvus uses milvus_uri / milvus_collection from the config)")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more log lines on stderr (-v: progress, -vv: debug); search/show/stats are quiet otherwise")
    p.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")


def _year(value: str) -> int | str:
    if value.strip() == UNKNOWN:
        return UNKNOWN
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad year {value!r} (want four digits, e.g. 2023, or {UNKNOWN})") from None


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--place", action="append", default=[], help="only this place (repeatable), e.g. 大铭乡")
    p.add_argument("--level", action="append", default=[], help="only this level: 乡/镇/街道/县/区…")
    p.add_argument("--region", action="append", default=[], help="only this higher-level region, e.g. 陕州区")
    p.add_argument("--year", action="append", default=[], type=_year,
                   help=f"only this report year ({UNKNOWN}: the reports whose year is not known)")
    p.add_argument("--kind", action="append", default=[],
                   choices=[k.value for k in SectionKind], help="only this section kind")


# Commands other packages add: entry-point name (the command) -> "module:register". setup.py declares the same
# in the `reportsearch.commands` group; this default covers a source checkout whose installed metadata does
# not have the group yet. `register(subparsers)` adds the subparser and sets `run(args, config) -> int`.
PLUGIN_GROUP = "reportsearch.commands"
KNOWN_PLUGINS = {"serve": "search_web.commands:register"}


def plugin_targets() -> dict[str, str]:
    return {**KNOWN_PLUGINS, **{ep.name: ep.value for ep in entry_points(group=PLUGIN_GROUP)}}


def _add_plugins(sub: argparse._SubParsersAction, targets: Mapping[str, str]) -> None:
    for name, target in targets.items():
        module, _, attr = target.partition(":")
        try:
            register = getattr(importlib.import_module(module), attr)
        except ImportError as exc:  # the package (or one it needs) is not installed: say so when it is asked for
            # No option prefix: whatever options follow are taken as they are, and the run says what is missing.
            p = sub.add_parser(name, help=f"(not available: {module.split('.')[0]} is not installed)",
                               prefix_chars="\0", add_help=False)
            p.add_argument("rest", nargs="*")
            p.set_defaults(run=_unavailable(name, module, exc), config=None, index_dir=None, model=None,
                           verbose=0, quiet=False)
            continue
        before = set(sub.choices)
        register(sub)
        for added in sorted(set(sub.choices) - before):
            _add_common(sub.choices[added])


def _unavailable(name: str, module: str, exc: ImportError):
    def run(args: argparse.Namespace, config: Config) -> int:
        print(f"错误 error: `reportsearch {name}` needs the package {module.split('.')[0]}, which is not installed "
              f"here ({exc})", file=sys.stderr)
        return 2
    return run


def build_parser(plugins: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; `plugins` (command -> "module:register") defaults to `plugin_targets()`."""
    parser = argparse.ArgumentParser(prog="reportsearch", description="检索政府工作报告 / search government work reports")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index a corpus folder (incremental by default)")
    p.add_argument("corpus", nargs="?", help="corpus folder (default: corpora)")
    p.add_argument("--full", action="store_true", help="rebuild from scratch")
    p.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    _add_common(p)

    p = sub.add_parser("adapt", help="adapt the embedding model to the indexed corpus (unsupervised, opt-in), then "
                                     "re-embed the index with it")
    p.add_argument("corpus", nargs="?", help="corpus folder of the index (default: corpora)")
    p.add_argument("--off", action="store_true", help="go back to the configured model (re-embeds the index)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    _add_common(p)

    p = sub.add_parser("search", help="search the index")
    p.add_argument("query", nargs="?", help="query text; quote phrases, AND / OR / NOT work")
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p.add_argument("--group", action="store_true", help="best passage per place (compare townships)")
    p.add_argument("-n", "--limit", type=int, default=10, help="number of hits (default 10)")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--json", action="store_true", help="JSON output (stable, see README)")
    p.add_argument("--batch", help="file of queries (one per line, or qid<TAB>query); writes JSON lines")
    p.add_argument("--all-copies", action="store_true", help="do not collapse identical boilerplate paragraphs")
    _add_filters(p)
    _add_common(p)

    p = sub.add_parser("figures", help="the figures (numbers) of every paragraph containing the query: place × year ×"
                                       " measure × value")
    p.add_argument("query", help="what the paragraphs must contain, e.g. 信访积案")
    p.add_argument("--sort", choices=FIGURE_SORTS, default="place",
                   help="order of the rows (default place; ties keep place, year, reading order)")
    p.add_argument("--desc", action="store_true", help="descending order")
    p.add_argument("--json", action="store_true", help="JSON output: every row and the measure groups")
    _add_filters(p)
    _add_common(p)

    p = sub.add_parser("years", help="a place's reports of two (or more) years side by side: each paragraph 新增 / 延续 /"
                                     " 未再提及, the changed words and the figures across the years")
    p.add_argument("place", help="the place as the index names it, e.g. 鹤龙街道")
    p.add_argument("--from", dest="year_from", type=int, help="the earlier year (default: the place's last two years)")
    p.add_argument("--to", dest="year_to", type=int, help="the later year")
    p.add_argument("--year", dest="years", action="append", type=int, default=[],
                   help="compare these years (repeatable; instead of --from/--to)")
    p.add_argument("--query", default="", help="only paragraphs containing this, e.g. 信访")
    p.add_argument("--json", action="store_true", help="JSON output: every row, its diff segments and figures")
    _add_common(p)

    p = sub.add_parser("show", help="print a cleaned document with its headings and metadata")
    p.add_argument("doc", help="document id or path (relative to the corpus)")
    p.add_argument("--json", action="store_true")
    _add_common(p)

    p = sub.add_parser("stats", help="documents and chunks per place, year, section kind")
    p.add_argument("--json", action="store_true")
    _add_common(p)

    p = sub.add_parser("status", help="published generation, last run, failing files")
    p.add_argument("--json", action="store_true")
    _add_common(p)

    p = sub.add_parser("eval", help="evaluate retrieval quality on a labelled query set")
    p.add_argument("dataset", help="a judged set folder (queries.tsv + qrels.tsv) or an id-level corpus "
                                   "(corpus.jsonl + queries.jsonl + qrels.tsv)")
    p.add_argument("--modes", default="keyword,semantic,hybrid")
    p.add_argument("--corpus", help="corpus folder the set judges (passage-level default: from the set's README; "
                                    "id-level: a folder of <passage id>.txt files, default: written from corpus.jsonl)")
    p.add_argument("--trec", help="write TREC run files with this prefix")
    p.add_argument("--json", help="write the metrics as JSON to this file")
    p.add_argument("--worst", type=int, default=5, help="show the N worst queries per mode")
    p.add_argument("--queries", help="only these query ids (file, one per line, or a comma list)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting for this run, e.g. --set fusion.rrf_k=20 (or the flat name: "
                        "--set rrf_k=20; docs/configuration.md; repeatable)")
    p.add_argument("--bench-dir", dest="bench_dir", help="where evaluation indexes are cached (default: .bench)")
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached evaluation index")
    p.add_argument("--adapt", action="store_true", help="evaluate with the encoder adapted to the set's corpus "
                                                      "(`reportsearch adapt`; its own cached index)")
    p.add_argument("--baseline", action="store_true",
                   help="evaluate the naive pipeline instead (paragraph BM25 + bare-text embeddings + RRF k=60)")
    _add_common(p)

    p = sub.add_parser("eval-metadata", help="check extracted place/region/level/year against a judged truth file")
    p.add_argument("truth", nargs="?", default="corpora/eval-metadata/eval-townships.tsv",
                   help="TSV: file, place, region, level, year (default: %(default)s)")
    p.add_argument("--corpus", default="../shared/eval-townships/corpus",
                   help="folder the truth file's names are relative to (default: %(default)s)")
    p.add_argument("--errors", action="store_true", help="list every document whose value differs")
    p.add_argument("--json", action="store_true")
    _add_common(p)
    _add_plugins(sub, plugin_targets() if plugins is None else plugins)
    return parser
