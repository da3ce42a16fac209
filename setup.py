"""reportsearch: hybrid search over Chinese government work reports."""
from setuptools import find_packages, setup

setup(
    name="reportsearch",
    version="0.1.0",
    description="Hybrid (full-text + semantic) search for Chinese government work reports",
    python_requires=">=3.11",
    packages=find_packages(include=["indexer", "indexer.*", "search_web", "search_web.*"]),
    include_package_data=True,
    package_data={
        "indexer": ["lexicon/*.txt"],
        "search_web": ["templates/*.html", "templates/**/*.html", "static/*", "static/**/*", "*.json"],
    },
    install_requires=[
        # torch is pinned: 2.13.0 is the CPU build on these machines' disk; anything else pulls CUDA.
        "torch==2.13.0",
        "sentence-transformers>=5,<7",
        "faiss-cpu>=1.8,<2",
        "whoosh-reloaded>=2.7.5,<3",
        "tantivy>=0.27,<1",  # optional faster full-text backend (Config.index.fulltext = "tantivy")
        "jieba>=0.42.1",
        "numpy>=1.26",
        "scipy>=1.10",  # one-to-one paragraph alignment of a place's years (linear_sum_assignment)
        "charset-normalizer>=3",
        "python-docx>=1.1",
        "openpyxl>=3.1,<4",  # xlsx export of the 数据 (figures) view
        "pypdfium2>=4",
        "beautifulsoup4>=4.12",
        "lxml>=5",
        "flask>=3",
        "waitress>=3",
        "tqdm>=4.60",
        "cn2an>=0.5.22,<0.6",  # Chinese numerals -> values for indexer/pipeline/figures (两, 十余, 36.43万, 25.10亿)
        # China's administrative divisions to township level (dictionary/china_location.zip), read as data:
        # indexer/pipeline/gazetteer.py never imports jionlp itself.
        "jionlp>=1.5.31,<1.6",
    ],
    extras_require={
        # The Milvus engine (indexer/engines/milvus): the client, and Milvus Lite for tests and one-machine use.
        # Pinned to the pair tested (docs/milvus.md "Versions"; server: deploy/milvus/docker-compose.yml).
        "milvus": ["pymilvus==3.0.2", "milvus-lite==3.2.2"],
        # pytest-xdist: `make test` runs two workers; filelock: they share the costly townships builds.
        "test": ["pytest>=8", "pytest-xdist>=3.5", "filelock>=3.12", "playwright>=1.40", "fpdf2>=2.7",
                 "hypothesis>=6.100", "pymilvus==3.0.2", "milvus-lite==3.2.2"],
    },
    entry_points={
        "console_scripts": ["reportsearch = indexer.cli:main"],
        # Subcommands other packages add to `reportsearch` (indexer/cli/commands.py never imports the web package).
        "reportsearch.commands": ["serve = search_web.commands:register"],
    },
)
