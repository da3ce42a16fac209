"""`reportsearch adapt`: adapt the encoder to the indexed corpus, then re-embed the index with it (a full build:
the recorded model changes); `--off` goes back to the configured model the same way."""
from __future__ import annotations

import time
from dataclasses import dataclass

from indexer.build.adapt import Adaptation, adapt_encoder
from indexer.core.config import Config
from indexer.operations.indexing import IndexRun, index
from indexer.storage.vectors.models import clear_active


@dataclass
class AdaptRun:
    adaptation: Adaptation | None  # None: back to the configured model
    run: IndexRun
    reembed_seconds: float  # wall time of the rebuild (re-embedding is most of it)

    def summary(self) -> str:
        """One line saying what was adapted and what it cost, then the rebuild's report."""
        a = self.adaptation
        if a is None:
            head = f"back to the configured model; rebuilt in {self.reembed_seconds / 60:.1f} min"
        else:
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(a.pair_kinds.items()))
            head = (f"adapted {a.base} to this corpus: {a.pairs} pairs ({kinds}) from {a.paragraphs} paragraphs, "
                    f"{a.steps} steps on {a.device}, {a.cpu_seconds / 60:.1f} CPU min "
                    f"({a.cpu_minutes_per_1000:.2f} per 1,000 paragraphs) -> models/{a.model}; re-embedded in "
                    f"{self.reembed_seconds / 60:.1f} min. The adapted model inherits {a.base}'s licence "
                    f"(m3e: non-commercial / research use only).")
        return "\n".join(line for line in (head, self.run.report.summary(), self.run.engine_line) if line)

    @property
    def exit_code(self) -> int:
        return self.run.report.exit_code


def adapt(config: Config, *, progress: bool | None = None) -> AdaptRun:
    """Train on the published index's paragraphs (build/adapt.py), then rebuild with the adapted model.
    Raises build.adapt.AdaptError when there is nothing to adapt to."""
    if not config.embedding.adapted:
        raise ValueError("setting embedding.adapted is false: the index would not use an adapted model")
    adaptation = adapt_encoder(config)
    t0 = time.perf_counter()
    run = index(config, progress=progress)
    return AdaptRun(adaptation, run, time.perf_counter() - t0)


def unadapt(config: Config, *, progress: bool | None = None) -> AdaptRun:
    """Stop using the adapted model (its files stay in models/) and rebuild with the configured one."""
    clear_active(config.index_dir)
    t0 = time.perf_counter()
    run = index(config, progress=progress)
    return AdaptRun(None, run, time.perf_counter() - t0)
