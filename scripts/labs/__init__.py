"""Labs: offline experiments behind docs/evaluation.md (fusion, embedding input, floors, lexicon growth).
Nothing here is wired into the product."""
