"""One indexing run as the CLI and cron start it: build and publish the local generation, bring the configured
engine up to date (operations/publish.py), and the scale advice for what is now published."""
from __future__ import annotations

from dataclasses import dataclass

from indexer.build.index import Index
from indexer.build.report import EXIT_RUN_FAILED, RunReport
from indexer.core.config import Config
from indexer.operations.publish import publish_run
from indexer.operations.status import advice_for
from indexer.storage.vectors import Encoder


@dataclass
class IndexRun:
    report: RunReport  # the run's report, as written to the index folder (a failed sync included)
    engine_line: str | None = None  # the remote engine's one-line summary; None for local or a dry run
    advice: str | None = None  # the full-text backend has outgrown the corpus (only when something is published)


def index(config: Config, *, full: bool = False, dry_run: bool = False, progress: bool | None = None,
          encoder: Encoder | None = None) -> IndexRun:
    """Run one pass over `config.corpus_dir`. Never raises for bad files; the report says how it went (and its
    exit code is the run's). A dry run changes nothing, neither locally nor in the engine."""
    build = Index(config, encoder)
    report = build.build(full=full, dry_run=dry_run, progress=progress)
    if dry_run:
        return IndexRun(report)
    published = report.exit_code != EXIT_RUN_FAILED  # locally; a failed sync after it changes the exit code
    line = publish_run(config, report, full=full)
    return IndexRun(report, line, advice_for(build.status()) if published else None)
