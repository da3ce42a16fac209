"""Figures: the quantified claims of a paragraph (化解信访积案6起, 覆盖群众2万余人次, 调解成功率98%).

Extracted per chunk by the build (build/write.py) into the catalog's `figures` table:
- extract.py   extract_figures(paragraph) -> [Figure]  (rules of tests/data/figures/README.md)
- numbers.py   numeral spans and values (cn2an)
- units.py     measure words, units and qualifier words
- measure.py   the phrase a figure quantifies
- grouping.py  group measures that are the same thing in different words (embeddings + vetoes)
- evaluate.py  `python -m indexer.evaluation.figures tests/data/figures/truth.tsv`
"""
from indexer.pipeline.figures.extract import EXTRACTOR_VERSION, Figure, extract_figures
from indexer.pipeline.figures.grouping import group_measures

__all__ = ["EXTRACTOR_VERSION", "Figure", "extract_figures", "group_measures"]
