"""Shared fixtures for the linter's tests: one Linter for the session."""

from __future__ import annotations

import pytest

from therapy_signals.lint import Linter


@pytest.fixture(scope="session")
def linter() -> Linter:
    return Linter()
