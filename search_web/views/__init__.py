"""Blueprints: `pages` (server-rendered HTML) and `api` (JSON). Both only translate HTTP <-> Searcher."""
