"""The `reportsearch` command line (`python -m indexer.cli` runs it too)."""
from indexer.cli.commands import main

__all__ = ["main"]
