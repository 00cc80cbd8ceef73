# The `cairn` command-line tool (Sources/CairnTool): the shell, one-shot
# commands, import/export and stats. SwiftPM builds it as the product
# cairn-tool (the product name `cairn` is the library's), with the Swift
# runtime linked in as libcairn.so has it; it is copied to build/bin/cairn
# and `cmake --install` installs it as bin/cairn beside the library.
# Included by the top-level Makefile, which defines ROOT, BUILD and
# SWIFT_RELEASE.
#
#   make tool            build build/bin/cairn
#   make test-tool       the tool's tests (Tests/tool, pytest): one-shot
#                        commands, import/export round trips of 100,000
#                        documents, bad lines, the shell through a pty
#   make test-tool-1m    the round trips with 1,000,000 documents (not in make test)
#   make -o tool test-tool   without rebuilding the tool

TOOL_DIR := $(BUILD)/bin
TOOL := $(TOOL_DIR)/cairn
TOOL_TEST_DOCS ?= 100000

.PHONY: tool test-tool test-tool-1m

tool: deps
	$(SWIFT_RELEASE) --product cairn-tool
	@mkdir -p $(TOOL_DIR)
	@cp -f .build/release/cairn-tool $(TOOL)
	@echo "built $(TOOL)"

# pytest comes from the Python binding's venv (python-env).
$(PY_VENV)/.tool-pytest: | $(PY_VENV_PYTHON)
	@$(PY_VENV_PYTHON) -c 'import pytest' 2>/dev/null || $(PY_PIP) install pytest
	@touch $@

test-tool: tool $(PY_VENV)/.tool-pytest
	CAIRN_TOOL=$(TOOL) CAIRN_TOOL_TEST_DOCS=$(TOOL_TEST_DOCS) $(PY_VENV_PYTHON) -m pytest -q $(ROOT)/Tests/tool

test-tool-1m: tool $(PY_VENV)/.tool-pytest
	CAIRN_TOOL=$(TOOL) CAIRN_TOOL_TEST_DOCS=1000000 $(PY_VENV_PYTHON) -m pytest -q $(ROOT)/Tests/tool -k round_trip
