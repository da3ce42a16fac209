"""reportsearch indexing and search library.

    from indexer import Config, Index, Searcher, SearchRequest
    Index(config).build()                      # incremental; publishes a new generation atomically
    Searcher.open(config).search(SearchRequest("信访积案化解做法"))
"""
from indexer.core.config import Config, load_config
from indexer.core.filters import Filters
from indexer.search.types import QueryError, SearchRequest, SearchResponse

__all__ = ["Config", "Filters", "Index", "QueryError", "SearchRequest", "SearchResponse", "Searcher", "load_config"]


def __getattr__(name: str):
    # Index and Searcher pull in torch/FAISS/Whoosh: import them only when asked for.
    if name == "Index":
        from indexer.build.index import Index

        return Index
    if name == "Searcher":
        from indexer.search.searcher import Searcher

        return Searcher
    raise AttributeError(name)
