"""Access to the app-wide Searcher and Config from inside a request."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app

from indexer.core.config import Config

if TYPE_CHECKING:
    from indexer.search.searcher import Searcher

SEARCHER_KEY = "reportsearch.searcher"
CONFIG_KEY = "reportsearch.config"


def searcher() -> "Searcher":
    return current_app.extensions[SEARCHER_KEY]


def config() -> Config:
    return current_app.extensions[CONFIG_KEY]


def searcher_of(app: Flask) -> "Searcher":
    """The app's Searcher outside a request (the server's start-up and shutdown)."""
    return app.extensions[SEARCHER_KEY]
