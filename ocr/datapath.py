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


def default_training_specs(root: Path | None = None) -> list[str]:
    """The data the shipped model is trained on (see the model card)."""
    r = root or data_root()
    return [
        f"emnist:{r / 'emnist' / 'byclass-test'}",
        f"chars74k:{r / 'chars74k' / 'strokes-writers-00-39.json'}",
        # Only the train mosaic of the balanced slice: its test samples may repeat byclass-test.
        f"emnist:{r / 'emnist' / 'balanced-slice' / 'X_train_103680_to_112799.webp'}",
        f"mat:{r / 'nist26' / 'nist26_valid.mat'}",
    ]
