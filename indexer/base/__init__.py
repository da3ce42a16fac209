"""Types both sides stand on: the analyzer, the query tree and the filters.

Indexing (fulltext/, vectors/, catalog) and searching (search/) import from here and never from each
other's packages, so no import arrow runs back up the pipeline."""
