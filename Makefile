# Every target sets up .venv by itself, so a fresh clone needs only `make corpus` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv corpus test lint system-deps bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: 2.13.0 is the CPU wheel on local disk.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The real Bertalign (a peer of the benchmark, GPL-3.0, never vendored): fetched once
# from the registry for `make test` and `make bench` only, so the tests need no network
# and `make corpus` never fetches it.
PEERS := .cache/peers/.fetched
$(PEERS): $(STAMP)
	$(PY) -c 'from benchmarks.peers import fetch_bertalign; fetch_bertalign()'
	touch $(PEERS)

venv: $(STAMP)

corpus: $(STAMP)
	$(PY) -m pipeline build --raw data/raw --out data/aligned

lint: $(STAMP)
	$(PY) -m ruff check pipeline tests benchmarks scripts
	$(PY) -m deptry pipeline
	$(PY) scripts/check_sizes.py

system-deps:
	bash scripts/test-system-deps.sh

test: lint system-deps $(PEERS)
	$(PY) -m pytest -q

bench: $(STAMP) $(PEERS)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .cache
