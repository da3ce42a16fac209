"""Dense retrieval: an encoder (sentence-transformers), an embedding cache, and a FAISS index."""
from indexer.vectors.cache import EmbeddingCache
from indexer.vectors.encoder import Encoder, cache_key, resolve_model
from indexer.vectors.faiss_index import VectorIndex

__all__ = ["EmbeddingCache", "Encoder", "VectorIndex", "cache_key", "resolve_model"]
