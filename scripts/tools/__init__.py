"""Operator and maintainer tools: reindex.sh (cron), check_imports (the layer check the tests run)."""
