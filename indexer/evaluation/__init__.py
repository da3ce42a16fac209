"""Retrieval evaluation: labelled query sets, metrics, and the `reportsearch eval` runner."""
