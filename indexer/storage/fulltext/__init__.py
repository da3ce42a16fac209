"""Full-text (keyword) index behind our own interface.

`base.FullTextIndex` is the interface; `whoosh_index.WhooshIndex` the current implementation;
`analysis` the jieba analysis shared with query parsing and highlighting.
Submodules are imported explicitly (no re-exports) so that `indexer.search.query` can use
`analysis` without pulling in Whoosh.
"""
