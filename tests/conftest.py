"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocr.datapath import DATA_ENV, data_root


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data folder, or skip with the reason."""
    root = data_root()
    if not (root / "README.md").is_file():
        pytest.skip(f"real data not found at {root} (set {DATA_ENV} to run this test)")
    return root


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
