"""Helpers shared by the test modules."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (bindings/python/tests -> ../../..).
ROOT = Path(__file__).resolve().parents[3]


def repo_path(env: str, relative: str) -> Path:
    """A file of the repository, or the path in environment variable `env` when set."""
    override = os.environ.get(env)
    return Path(override) if override else ROOT / relative
