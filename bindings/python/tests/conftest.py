"""Shared fixtures and the `conformance: N cases passed` summary line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import cairn

_CONFORMANCE_MODULE = "test_conformance.py::"
_conformance = {"passed": 0, "ran": 0}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh directory path for a database (not created yet)."""
    return tmp_path / "db"


@pytest.fixture
def db(db_path: Path) -> Iterator[cairn.Database]:
    """A fresh database with sync="never" (tests need no fsync per write)."""
    with cairn.open(db_path, sync="never") as handle:
        yield handle


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _CONFORMANCE_MODULE not in report.nodeid or report.when != "call":
        return
    _conformance["ran"] += 1
    if report.passed:
        _conformance["passed"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _conformance["ran"]:
        terminalreporter.write_line(f"conformance: {_conformance['passed']} cases passed")
