# Two commands matter: `make docs` and `make test`. Each sets up what is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Re-install only when the pinned dependencies, the C fast path or the install mode change.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# kdocs is installed editable as a path in a .pth file ("compat"), not through setuptools'
# import finder, which `site` imports at every Python start (~12 ms of each kdocs command).
EDITABLE_MODE := compat
# pip writes the `kdocs` console script. The one pip 26.3 writes does not import `re`; the one
# of the pip a Python 3.11 venv starts with (23.2) does: ~9 ms of every command, a quarter of
# a one-file `kdocs validate --server` (35.8 -> 26.6 ms wall, paired; benchmarks/README.md).
PIP_VERSION := 26.3
STAMP := $(VENV)/.installed-$(EDITABLE_MODE)-$(shell echo $(PIP_VERSION) | cat - pyproject.toml kdocs/resource/_quickc.c | sha256sum | cut -c1-16)

.PHONY: docs test setup lint bench clean cluster-binaries serve chromium valgrind

docs: $(STAMP)
	$(BIN)/kdocs build

test: $(STAMP) cluster-binaries chromium valgrind
	$(BIN)/ruff check kdocs macros tests
	$(BIN)/pytest
	$(BIN)/kdocs build  # the site, with the cluster results this run recorded

setup: $(STAMP)

$(STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	$(BIN)/pip install --quiet --disable-pip-version-check \
	  --config-settings editable_mode=$(EDITABLE_MODE) -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

# Builds (once, cached outside the clone) the control plane binaries of the kwok provider and
# everything in clusters/build/*/component.conf: its cluster components (the local-path
# provisioner, Karpenter; cold, Karpenter adds ~4 min of CPU, 9 min beside other builds) and
# actionlint, which the workflow test runs (cold ~40 s).
# One control plane per version of cluster-versions in pyproject.toml (kdocs/config.py pins each
# release; cold, each is another 6 to 20 minutes of both cores).
cluster-binaries: $(STAMP)
	clusters/build/build-binaries.sh >/dev/null
	for release in $$($(BIN)/python -m kdocs.config --cluster-releases); do \
	  K8S_VERSION=$$release clusters/build/build-binaries.sh >/dev/null || exit 1; done
	clusters/build/build-component.sh --all >/dev/null

# The browser tests use Debian's Chromium (test tools cannot download browsers here).
chromium:
	@command -v chromium >/dev/null || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# The bench counts instructions under valgrind; tests/benchmarks/test_instructions.py runs it.
valgrind:
	@command -v valgrind >/dev/null || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq valgrind >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check kdocs macros tests

clean:
	rm -rf site .kdocs .pytest_cache

# kdocs side by side with kubeconform, kubernetes-validate and MkDocs, plus the cluster stage
# and the live preview; writes benchmarks/results.md and prints it (see benchmarks/README.md).
bench: $(STAMP) valgrind
	$(BIN)/python benchmarks/bench.py --out benchmarks/results.md

# Not part of `make test`: SOAK_RUNS (default 200) consecutive `kdocs test --force` runs of one
# scenario against one warm kwok cluster of its own; per run exit code, duration, leaks and the
# control plane's memory, reported in artifacts/soak/ (see benchmarks/soak.py).
SOAK_RUNS ?= 200
.PHONY: soak
soak: $(STAMP) cluster-binaries
	$(BIN)/python benchmarks/soak.py --runs $(SOAK_RUNS) --out artifacts/soak
