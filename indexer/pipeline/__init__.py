"""Ingest: scan → load → clean → structure → metadata → chunk (and the figures of a paragraph)."""
