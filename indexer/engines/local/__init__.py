"""The local engine: published generations of SQLite catalog + Whoosh/tantivy + FAISS."""
