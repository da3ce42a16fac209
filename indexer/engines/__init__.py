"""Storage engines behind the `Searcher` / `Index` façades (see base.py for the seam)."""
