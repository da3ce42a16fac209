"""Dense retrieval: an encoder (sentence-transformers), an embedding cache, and a FAISS index."""
from indexer.storage.vectors.cache import EmbeddingCache
from indexer.storage.vectors.encoder import Encoder, cache_key, resolve_model
from indexer.storage.vectors.faiss_index import VectorIndex

__all__ = ["EmbeddingCache", "Encoder", "VectorIndex", "cache_key", "resolve_model"]
