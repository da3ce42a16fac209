"""Flask web UI and JSON API over the search library (indexer.search.Searcher).

The app holds exactly one Searcher (index + embedding model loaded once) in `app.extensions`;
every request and every waitress thread shares it.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Flask

from indexer.core.config import Config, load_config
from search_web import errors, templating
from search_web.state import CONFIG_KEY, SEARCHER_KEY
from search_web.views import api, figures, pages, years

if TYPE_CHECKING:
    from indexer.search.searcher import Searcher

log = logging.getLogger(__name__)


def create_app(config: Config | None = None, searcher: "Searcher | None" = None) -> Flask:
    """Build the app. Opens the index described by `config` unless a ready `searcher` is given."""
    if config is None:
        config = load_config()
    if searcher is None:
        # Imported here so that importing search_web (e.g. for the OpenAPI file) stays cheap.
        from indexer.search.searcher import Searcher

        log.info("opening index at %s", config.index_dir)
        searcher = Searcher.open(config)

    app = Flask(__name__)
    app.json.ensure_ascii = False  # readable Chinese in API responses
    app.json.sort_keys = False
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # the app takes no uploads
    app.extensions[SEARCHER_KEY] = searcher
    app.extensions[CONFIG_KEY] = config

    templating.init_app(app)
    errors.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(years.bp)
    app.register_blueprint(years.api_bp, url_prefix="/api")
    app.register_blueprint(figures.bp)
    app.after_request(_security_headers)
    return app


# Everything is served by the app itself; the policy makes any stray external or inline asset fail loudly in
# development instead of silently breaking on an offline intranet. Also sent on waitress's own error replies
# (search_web/serve.py), which never reach the app.
SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "frame-ancestors 'none'; form-action 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)


def _security_headers(response):
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)
    return response
