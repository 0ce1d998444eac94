"""Where the development data lives: ``$SCANSCRIBE_DATA``, default ``../shared/data``."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "SCANSCRIBE_DATA"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """The data folder; relative defaults are taken from the project root, not the cwd."""
    value = os.environ.get(DATA_ENV)
    if value:
        return Path(value).expanduser()
    return (PROJECT_ROOT / ".." / "shared" / "data").resolve()
