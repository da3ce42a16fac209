"""Operations: what an operator (or cron, the web app, an evaluation) asks of an index as a whole, one layer
above the search façade and below the CLI and evaluation.

- indexing.py: one indexing run: build and publish the local generation, bring the configured engine up to
  date, the scale advice for what is now published;
- publish.py: bring the configured engine (Milvus) up to date with the published local generation;
- status.py: what `status` reports: the local index, the remote engine, the scale advice.
"""
