# `make run` and `make test` bootstrap everything from a plain python3 (3.11+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run sim test install system-packages bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Chromium (browser tests) and zbar (QR decoding) come from the system's packages.
system-packages:
	@if command -v chromium >/dev/null && command -v zbarimg >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium zbar-tools >/dev/null; \
	else echo "note: install chromium and zbar-tools for the browser and QR tests"; fi

run: install
	$(BIN)/arcade serve

# The badge under the MicroPython unix port, its screen in this terminal (docs/badge.md).
sim: install
	$(BIN)/arcade sim

test: install system-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/server.py
	$(BIN)/micropython -X heapsize=96K bench/qr.py
	$(BIN)/python bench/replay.py

clean:
	rm -rf $(VENV) build .pytest_cache
