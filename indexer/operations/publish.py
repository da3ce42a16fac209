"""Publish to the configured engine: the local generation is the plan and the staging area (file hashes, chunk
rows, embedding cache); a remote engine (Milvus) is brought up to date with it after each run."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from indexer.build.report import EXIT_RUN_FAILED, now, write_report
from indexer.core.config import Config
from indexer.storage.generations import GenerationStore, IndexUnavailable, LockHeld

if TYPE_CHECKING:
    from indexer.build.report import RunReport

log = logging.getLogger(__name__)


def publish_to_engine(config: Config, full: bool = False) -> str | None:
    """After a local run published a generation: bring the configured remote engine up to date with it.

    For Milvus the diff is upserted/deleted, or a full rebuild is written to new collections and the alias
    swapped. Returns a one-line summary, or None for the local engine. A Milvus that cannot be reached raises
    MilvusUnavailable naming the URI (a full rebuild has then published nothing), a value too long for its
    field FieldTooLong (a ValueError naming the file and field)."""
    if config.engine.name != "milvus":
        return None
    from indexer.engines.milvus.connection import connect
    from indexer.engines.milvus.schema import Layout
    from indexer.engines.milvus.sync import sync

    gen = GenerationStore(config.index_dir).current_path_or_none()
    if gen is None:
        return "milvus: nothing published locally yet, nothing to sync"
    client = connect(config.engine.milvus.uri, config.engine.milvus.token)
    try:
        layout = Layout(config.engine.milvus.vector_index, config.engine.milvus.partition_key)
        r = sync(client, gen, config.engine.milvus.collection, full=full, user_dict=config.analysis.user_dict,
                 uri=config.engine.milvus.uri, layout=layout)
    finally:
        client.close()
    kind = "full rebuild, alias swapped" if r.full else "incremental" + (", unchanged" if r.unchanged else "")
    dropped = f", dropped {len(r.dropped)} old/orphaned collections" if r.dropped else ""
    return (f"milvus {config.engine.milvus.uri} → {r.collection} ({kind}): chunks +{r.chunks_upserted} "
            f"-{r.chunks_deleted}, documents +{r.docs_upserted} -{r.docs_deleted}{dropped}, {r.seconds:.1f} s")


def publish_run(config: Config, report: "RunReport", full: bool = False) -> str | None:
    """`publish_to_engine` after an indexing run, under the index lock, keeping the run's report truthful.

    Before the sync the report on disk says the run failed ("Milvus not brought up to date"), so a run
    killed during the sync never leaves a report — or `status` — saying ok; a finished sync restores the
    local run's status and exit code. A failed sync is exit 2 with the local generation named as published.
    The report is updated in place (the caller prints it). Returns the engine's summary line, or None."""
    if config.engine.name == "local" or report.exit_code == EXIT_RUN_FAILED:  # nothing new to sync
        return None
    store = GenerationStore(config.index_dir)
    settled = (report.status, report.exit_code, report.error)
    where = f"{config.engine.name} at {config.engine.milvus.uri}"
    local = f"local generation {report.generation or store.current_name()} published"
    report.status, report.exit_code = "failed", EXIT_RUN_FAILED
    report.error = f"{local}; {where} not brought up to date (the sync did not finish); the next run does it"
    write_report(store.index_dir, report)
    try:
        with store.lock():
            line = publish_to_engine(config, full)
    except (IndexUnavailable, LockHeld, ValueError) as exc:  # unreachable, lock held, a field too long
        report.error = f"{local}; {where} not brought up to date: {exc}"
        log.error("%s", report.error)
        line = None
    except Exception as exc:
        log.exception("sync to %s failed", where)
        report.error = f"{local}; {where} not brought up to date: {type(exc).__name__}: {exc}"
        line = None
    else:
        report.status, report.exit_code, report.error = settled
    report.finished = now()
    write_report(store.index_dir, report)
    return line
