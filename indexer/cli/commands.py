"""`reportsearch` command line: index, adapt, search, figures, show, stats, status, eval -- and the commands other packages
add through the `reportsearch.commands` entry points (the web package's `serve`)."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Callable, Mapping, Sequence

from indexer.core.facets import FACET_LABELS, UNKNOWN
from indexer.core.provenance import described
from indexer.core.config import Config, load_config
from indexer.core.document import HEADING_SEPARATOR
from indexer.storage.generations import IndexUnavailable
from indexer.core.filters import Filters
from indexer.cli.args import KNOWN_PLUGINS, PLUGIN_GROUP, build_parser, plugin_targets
from indexer.search.types import QueryError, SearchRequest, SearchResponse

log = logging.getLogger("reportsearch")
__all__ = ["main", "build_parser", "plugin_targets", "KNOWN_PLUGINS", "PLUGIN_GROUP", "format_response"]


def _config(args: argparse.Namespace, **extra) -> Config:
    overrides = {"index_dir": args.index_dir, "model": args.model, "engine": getattr(args, "engine", None), **extra}
    return load_config(args.config, {k: v for k, v in overrides.items() if v is not None})


# Commands whose output is the answer itself: their progress lines (model loading, jieba) would only
# clutter the terminal, so they log warnings and errors unless asked with -v.
_QUIET_COMMANDS = {"search", "figures", "years", "show", "stats", "eval-metadata"}
_LEVELS = (logging.WARNING, logging.INFO, logging.DEBUG)


def _setup_logging(args: argparse.Namespace) -> None:
    base = 0 if args.command in _QUIET_COMMANDS else 1  # index, serve, status, eval: progress by default
    level = logging.WARNING if args.quiet else _LEVELS[min(base + args.verbose, len(_LEVELS) - 1)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("sentence_transformers", "transformers", "httpx", "urllib3", "filelock", "faiss.loader"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None, plugins: Mapping[str, str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    # A built-in command needs no plugin: importing the web package costs ~1 s that `search` should not pay.
    args = build_parser({} if command in COMMANDS else plugins).parse_args(argv)
    _setup_logging(args)
    try:
        if args.command in COMMANDS:
            return COMMANDS[args.command](args)
        return args.run(args, _config(args))
    except QueryError as exc:  # a request the user can fix (a ValueError too, so first): name the parameter
        print(f"错误 error ({exc.param}): {exc.message}", file=sys.stderr)
        return 2
    except ValueError as exc:  # bad settings
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    except IndexUnavailable as exc:  # no index yet, or a damaged one: the message says what to run
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `reportsearch show … | head`: the reader has what it wanted
        # Point stdout at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _corpus_config(args: argparse.Namespace) -> Config | None:
    """The configuration of a command that reads the corpus folder (index, adapt); None, said on stderr, when
    that folder does not exist."""
    config = _config(args, corpus_dir=args.corpus)
    if not Path(config.corpus_dir).is_dir():
        print(f"错误 error: corpus folder not found: {config.corpus_dir}", file=sys.stderr)
        return None
    return config


def cmd_index(args: argparse.Namespace) -> int:
    from indexer.operations.indexing import index

    config = _corpus_config(args)
    if config is None:
        return 2
    progress = False if args.no_progress else None
    run = index(config, full=args.full, dry_run=args.dry_run, progress=progress)
    report = run.report
    if args.dry_run:
        print("dry run — nothing changed / 试运行，未做任何更改")
        for label, items in (("new", report.added), ("changed", report.changed), ("deleted", report.deleted)):
            for item in items:
                print(f"  {label}: {item}")
        for old, new in report.renamed:
            print(f"  renamed: {old} -> {new}")
        print(f"  unchanged: {report.unchanged}")
        for f in report.failures:
            print(f"  will fail: {f['path']}: {f['reason']}")
        for f in report.skipped:
            print(f"  skipped: {f['path']}: {f['reason']}")
        if report.error:
            print(f"错误 error: {report.error}", file=sys.stderr)
    else:
        print(report.summary())  # after the sync to the remote engine: the report says how that went too
        for line in (run.engine_line, run.advice):
            if line:
                print(line)
    return report.exit_code


def cmd_adapt(args: argparse.Namespace) -> int:
    from indexer.build.adapt import AdaptError
    from indexer.operations.adapting import adapt, unadapt

    config = _corpus_config(args)
    if config is None:
        return 2
    progress = False if args.no_progress else None
    try:
        done = unadapt(config, progress=progress) if args.off else adapt(config, progress=progress)
    except AdaptError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    print(done.summary())
    return done.exit_code


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(place=tuple(args.place), level=tuple(args.level), region=tuple(args.region),
                   year=tuple(args.year), kind=tuple(args.kind))


def _open_searcher(args: argparse.Namespace, *, queries: bool = True):
    """The searcher; `queries=False` for commands that only read the catalog (show, stats): the embedding
    model (seconds to load, hundreds of MB) is then never loaded."""
    from indexer.search.searcher import Searcher

    return Searcher.open(_config(args)) if queries else Searcher(_config(args))


def cmd_search(args: argparse.Namespace) -> int:
    if not args.query and not args.batch:
        print("错误 error: give a QUERY or --batch FILE", file=sys.stderr)
        return 2
    searcher = _open_searcher(args)  # no index: main() says so (IndexUnavailable), exit 2
    filters = _filters(args)

    def request(query: str) -> SearchRequest:
        return SearchRequest(query=query, mode=args.mode, filters=filters, group_by_place=args.group,
                             page=args.page, size=args.limit, collapse_duplicates=not args.all_copies)

    if args.batch:
        return _batch(searcher, args.batch, request)
    response = searcher.search(request(args.query))  # a QueryError: main() names the parameter, exit 2
    _print_response(response, args.json, format_response)
    return 0


def _print_response(response, as_json: bool, as_text: Callable[..., str]) -> None:
    """A response as the documented JSON (`to_dict`) or as the command's text."""
    print(json.dumps(response.to_dict(), ensure_ascii=False, indent=2) if as_json else as_text(response))


def cmd_figures(args: argparse.Namespace) -> int:
    from indexer.search.figures import FiguresRequest

    searcher = _open_searcher(args)  # no index: main() says so (IndexUnavailable), exit 2
    try:
        response = searcher.figures(FiguresRequest(args.query, _filters(args), args.sort, args.desc))
    finally:
        searcher.close()
    _print_response(response, args.json, format_figures)
    return 0


def cmd_years(args: argparse.Namespace) -> int:
    from indexer.search.years import YearsRequest

    years = list(args.years)
    if args.year_from is not None or args.year_to is not None:
        if args.year_from is None or args.year_to is None:
            print("错误 error (years): --from 和 --to 需一起给出。", file=sys.stderr)
            return 2
        years = [args.year_from, args.year_to]
    searcher = _open_searcher(args)
    try:
        response = searcher.years(YearsRequest(args.place, tuple(years), args.query))
    except KeyError:
        print(f"错误 error (place): 索引中没有地方“{args.place}”的报告。", file=sys.stderr)
        return 2
    finally:
        searcher.close()
    _print_response(response, args.json, format_years)
    return 0


def format_years(r) -> str:
    """Each comparison: its counts, then one block per row (label, both paragraphs with the changed words in
    【】, the figures across the years)."""
    out = [f"{r.place}：{' → '.join(map(str, r.years))}" + (f"（只看含“{r.query}”的段落）" if r.query else "")]
    if r.note:
        out.append(r.note)
    for c in r.comparisons:
        out.append(f"\n== {c.earlier.year} {c.earlier.title} → {c.later.year} {c.later.title}")
        out.append("  ".join(f"{label} {n}" for label, n in c.counts.items()))
        for row in c.rows:
            out.append(f"\n[{row.label}]" + (f" 相似度 {row.score:.2f}" if row.score else ""))
            for name, side in (("前", row.earlier), ("后", row.later)):
                if side is not None:
                    text = "".join(f"【{t}】" if changed else t for t, changed in side.segments)
                    out.append(f"  {side.year}¶{side.paragraph_index} {text}")
            for f in row.figures:
                out.append(f"  数据 {f.measure}：{f.earlier}{f.unit} → {f.later}{f.unit}")
    return "\n".join(out)


FIGURE_COLUMNS = ("地点", "年份", "指标组", "指标", "数值", "单位", "限定", "原文", "句子")


def format_figures(r) -> str:
    """The figures table for a terminal or a spreadsheet: the measure groups, then one tab-separated row per
    figure (values written as the CSV export writes them)."""
    from indexer.search.figures import value_text

    lines = [f"含“{r.query}”的段落 {r.paragraphs} 个，其中数字 {r.total} 个（用时 {r.took_ms:.0f} 毫秒）"]
    merged = [g for g in r.groups if len(g.measures) > 1]
    if merged:
        lines.append("同义指标合并为一组（指标组）：")
        lines.extend(f"  {g.label}：{' / '.join(g.measures)}（{g.rows} 个）" for g in merged)
    if r.note:
        lines.append(f"提示：{r.note}")
    lines.append("\t".join(FIGURE_COLUMNS))
    for f in r.rows:
        lines.append("\t".join(str(v) for v in (
            f.place or UNKNOWN, f.year or UNKNOWN, f.group, f.measure, value_text(f.value, f.value_high), f.unit,
            f.qualifier, f.as_written, f.sentence)))
    return "\n".join(lines)


def _batch(searcher, path: str, request) -> int:
    failed = 0
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            qid, query = line.split("\t", 1) if "\t" in line else (str(n), line)
            out: dict = {"qid": qid, "query": query}
            try:
                out["hits"] = [h.to_dict() for h in searcher.search(request(query)).hits]
            except QueryError as exc:
                out["hits"], out["error"] = [], {"param": exc.param, "message": exc.message}
                failed += 1
            print(json.dumps(out, ensure_ascii=False), flush=True)
    return 1 if failed else 0


def count_split(r: SearchResponse) -> str:
    """：字面匹配 3 条，按公文用语匹配 2 条，意思相近 5 条 (keyword mode: no near-meaning part)."""
    parts = [f"字面匹配 {r.literal_total} 条"]
    if r.official_total:
        parts.append(f"按公文用语匹配 {r.official_total} 条")
    if r.mode != "keyword":
        parts.append(f"意思相近 {r.total - r.literal_total - r.official_total} 条")
    return "：" + "，".join(parts) if len(parts) > 1 and r.total else ""


def format_response(r: SearchResponse) -> str:
    """Readable Chinese output for a terminal; highlighted terms in reverse video when it is a TTY."""
    from indexer.search.highlight import segments
    from indexer.search.official import MATCH_TITLES, match_label

    tty = sys.stdout.isatty()
    split = count_split(r)
    lines = [f"共 {r.total} 条结果{split}（{r.mode}，用时 {r.took_ms:.0f} 毫秒，第 {r.page} 页）"]
    if r.message:
        lines.append(f"提示：{r.message}")
    for i, h in enumerate(r.hits, start=(r.page - 1) * r.size + 1):
        # Marks become reverse video on a terminal and vanish in a pipe; the rest is plain text.
        on, off = ("\x1b[7m", "\x1b[0m") if tty else ("", "")
        text = "".join(on + piece + off if marked else piece for piece, marked in segments(h.text, h.spans))
        where = HEADING_SEPARATOR.join(h.heading_path) or "（无标题）"
        ranks = f"关键词#{h.keyword_rank or '-'} 语义#{h.semantic_rank or '-'}"
        if h.match != "literal":  # 〔按公文用语匹配：信访——段落中没有检索词，…〕
            ranks += f" 〔{match_label(h)}——{MATCH_TITLES.get(h.match, '')}〕"
        lines.append(f"\n[{i}] {h.place or '未知地点'} · {h.year or '年份不详'} · {h.title}")
        lines.append(f"    {where} 〔{h.section_kind}〕 第{h.paragraph_index + 1}段  {ranks}  {h.path}")
        lines.append(f"    {text}")
        if h.shared_with:
            places = "、".join(sorted({s.place or s.path for s in h.shared_with}))
            lines.append(f"    （另有 {len(h.shared_with)} 份报告有相同表述：{places}）")
        if h.shared_sentence:
            places = "、".join(s.place or s.path for s in h.shared_sentence.reports)
            lines.append(f"    （另有 {len(h.shared_sentence.reports)} 份报告有相同语句“{h.shared_sentence.text}”：{places}）")
    if not r.hits:
        lines.append("没有找到结果。可以试试：换用“语义”或“混合”检索、减少筛选条件、换一种说法。")
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    searcher = _open_searcher(args, queries=False)
    try:
        view = searcher.find_document(args.doc)
    except KeyError:
        print(f"错误 error: no document {args.doc!r} in the index", file=sys.stderr)
        return 2
    finally:
        searcher.close()
    if args.json:
        print(json.dumps(view.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"{view.title}\n地点 {view.place or UNKNOWN}（{view.level or UNKNOWN}）  上级 {view.region or UNKNOWN}  "
          f"年份 {view.year or UNKNOWN}  日期 {view.date or '-'}\n文件 {view.path}  id {view.doc_id}")
    sources = described(view.provenance)
    if sources:
        print("来源 " + "  ".join(f"{FACET_LABELS.get(name, '日期')} {how}" for name, how in sources))
    for p in view.paragraphs:
        if p.is_heading:
            print("\n" + "#" * (p.heading_level or 1) + " " + p.text)
        else:
            print(f"[{p.index + 1}]〔{p.section_kind}〕 {p.text}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    searcher = _open_searcher(args, queries=False)
    health = searcher.health()
    if health["status"] == "damaged":
        print(f"错误 error: index damaged: {'; '.join(health['damaged'])}, run `{health['repair']}`", file=sys.stderr)
        return 2
    facets = searcher.facets()
    # Documents whose place or year nobody could tell: what an operator fills in meta.csv (which wins).
    unknown = [{"path": d.path, "missing": [f for f in ("place", "year") if getattr(d.meta, f) in ("", None)]}
               for d in searcher.documents() if not d.meta.place or d.meta.year is None]
    if args.json:
        print(json.dumps({"health": health, "facets": {k: dict(v) for k, v in facets.items()},
                          "unknown_metadata": unknown}, ensure_ascii=False, indent=2))
        return 0
    print(f"generation {health['generation']} built {health['built_at']} model {health['model']}")
    print(f"documents {health['documents']}, chunks {health['chunks']}")
    for field, values in facets.items():
        print(f"{FACET_LABELS.get(field, field)}: " + "，".join(f"{v} {n}" for v, n in values))
    if unknown:
        print(f"地点或年份未知的文档 {len(unknown)} 份（可在 meta.csv 中填写 file,place,region,level,year）：")
        for d in unknown:
            print(f"  {d['path']}  缺 " + "、".join(FACET_LABELS[f] for f in d["missing"]))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from indexer.operations.status import advice_for, status as index_status

    status = index_status(_config(args))
    remote = status.get("milvus")
    damaged = 2 if status.get("damaged") else 0  # scripts can test the index's health by the exit code
    if args.json:
        print(json.dumps(status, ensure_ascii=False, indent=2))
        return damaged
    if damaged:
        print(f"index damaged: {'; '.join(status['damaged'])}, run `{status['repair']}`")
    print(f"index: {status['index_dir']}")
    print(f"published generation: {status.get('generation') or '(none)'}  built {status.get('built_at', '-')}")
    print(f"documents {status.get('documents', 0)}, chunks {status.get('chunks', 0)}, model {status.get('model', '-')}")
    last = status.get("last_run")
    if last:
        code = f" (exit {last['exit_code']})" if last.get("exit_code") is not None else ""
        print(f"last run: {last['status']}{code} {last['started']} → {last['finished'] or '-'}")
    if last and last.get("error"):
        print(f"  error: {last['error']}")
    if status.get("last_run_unreadable"):
        print(f"last run: {status['last_run_unreadable']}")
    for f in status.get("failing_files", []):
        print(f"  failing: {f['path']}: {f['reason']}")
    for f in status.get("skipped_files", []):
        print(f"  skipped: {f['path']}: {f['reason']}")
    for r in status.get("repairs", []):
        print(f"  repaired: {r}")
    if remote is not None:
        print(f"milvus {remote['uri']}: alias {remote['alias']} → {remote['collection'] or '(nothing published)'}"
              + (f", documents {remote['documents']}, chunks {remote['chunks']}" if remote["collection"] else ""))
    advice = advice_for(status)
    if advice:
        print(advice)
    return damaged


def cmd_eval(args: argparse.Namespace) -> int:
    from indexer.evaluation.run import run_cli

    return run_cli(args, _config(args))


def cmd_eval_metadata(args: argparse.Namespace) -> int:
    from indexer.evaluation.metadata_truth import TruthFileError, evaluate, format_report

    try:
        report = evaluate(Path(args.truth), Path(args.corpus), _config(args))
    except TruthFileError as exc:
        print(f"错误 error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.json
          else format_report(report, args.errors))
    return 0


COMMANDS = {
    "index": cmd_index, "adapt": cmd_adapt, "search": cmd_search, "figures": cmd_figures, "years": cmd_years, "show": cmd_show, "stats": cmd_stats, "status": cmd_status,
    "eval": cmd_eval, "eval-metadata": cmd_eval_metadata,
}

if __name__ == "__main__":
    sys.exit(main())
