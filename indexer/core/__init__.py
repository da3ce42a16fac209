"""The bottom layer: configuration, the document model, fault injection, text analysis, query trees, filters."""
