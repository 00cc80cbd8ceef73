# The Python binding: a venv with the `cairn` package (libcairn.so inside),
# its tests and its example. Included by the top-level Makefile, which
# defines ROOT, BUILD, LIB, LIBDIR and HEADER and builds $(LIB) with `lib`.
#
#   make python-env    create .venv if absent; install pytest and the package
#   make test-python   run bindings/python/tests (conformance, header, API)
#
# Neither target builds Swift: the top-level rules order `lib` first, and
# `make -o lib python-env test-python` tests against an existing library.

PY_VENV := $(ROOT)/.venv
PY_VENV_PYTHON := $(PY_VENV)/bin/python
PY_BINDING := $(ROOT)/bindings/python
PY_PIP := $(PY_VENV_PYTHON) -m pip --quiet --disable-pip-version-check --no-input

# Run by `make demo` as `$(PYTHON_EXAMPLE) $(DEMO_DB)`.
PYTHON_EXAMPLE := $(PY_VENV_PYTHON) $(ROOT)/examples/python/example.py

.PHONY: python-env test-python

# The venv is made once; a failed attempt leaves nothing half-made behind.
$(PY_VENV_PYTHON):
	@echo "creating $(PY_VENV)"
	@python3 -m venv $(PY_VENV) || { rm -rf $(PY_VENV); exit 1; }

# Reinstalls the package every time, so that a rebuilt libcairn.so is picked
# up. The build tools are installed once and the build runs without isolation,
# so a rerun needs no network.
python-env: $(PY_VENV_PYTHON)
	@test -f $(LIB) || { echo "python-env: $(LIB) is missing; run 'make lib' first" >&2; exit 1; }
	@cp -f $(LIB) $(PY_BINDING)/cairn/libcairn.so
	@$(PY_VENV_PYTHON) -c 'import pytest, setuptools, wheel' 2>/dev/null \
		|| $(PY_PIP) install pytest 'setuptools>=61' wheel
	@rm -rf $(PY_BINDING)/build $(PY_BINDING)/cairn.egg-info
	@$(PY_PIP) install --no-build-isolation --no-deps --force-reinstall $(PY_BINDING)
	@rm -rf $(PY_BINDING)/build $(PY_BINDING)/cairn.egg-info

# -q prints one dot per test, the `conformance: N cases passed` line (from
# tests/conftest.py) and pytest's closing summary line.
test-python: python-env
	@cd $(ROOT) && $(PY_VENV_PYTHON) -m pytest -q $(PY_BINDING)/tests
