# `make run` and `make test` bootstrap everything from a plain python3 (3.11+).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run sim test install system-packages bench clean

# A step that fails leaves no target behind, so the next make does it again.
.DELETE_ON_ERROR:

$(VENV)/pyvenv.cfg:
	@echo "make: creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# One stamp per extra, redone when pyproject.toml changes: `badge` is what serving and the
# simulator need (the base and the badge tools), `test` is everything the tests use.
$(VENV)/.installed-%: pyproject.toml | $(VENV)/pyvenv.cfg
	@echo "make: installing badge-arcade[$*] into $(VENV), editable"
	$(BIN)/python -m pip install -e '.[$*]'
	touch $@

install: $(VENV)/.installed-test

# Chromium (browser tests), zbar (QR decoding) and Node.js with npm (node-oidc-provider, which
# tests/test_idp_node_oidc.py installs under build/) come from the system's packages. Only what is
# missing is asked for: Debian's npm conflicts with a nodejs that bundles its own (NodeSource's).
system-packages:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "note: install$$missing for the browser, QR and OpenID provider tests"; fi

run: $(VENV)/.installed-badge
	$(BIN)/arcade serve

# The badge under the MicroPython unix port, its screen in this terminal (docs/badge.md).
sim: $(VENV)/.installed-badge
	$(BIN)/arcade sim

# Also builds the wheel and tries it in a fresh venv of its own (tests/test_wheel.py). Test files
# run in parallel (pytest-xdist), more workers than cores: many tests wait on a server or a badge.
TEST_WORKERS ?= 4
test: install system-packages
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/server.py
	$(BIN)/micropython -X heapsize=96K bench/qr.py
	$(BIN)/python bench/replay.py
	$(BIN)/python bench/replay_flood.py
	$(BIN)/python bench/crash.py
	$(BIN)/python bench/store_scale.py
	$(BIN)/python bench/typed_codes.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/transfer.py
	$(BIN)/python bench/live.py
	$(BIN)/python bench/windows.py
	$(BIN)/python bench/tap_loss.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
