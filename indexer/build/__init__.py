"""Building a generation: plan the changes, write them, report the run; `Index` is the entry."""
