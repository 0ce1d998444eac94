"""The real data in ../shared/data (skipped with the reason where it is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocr.model.classes import CLASSES
from ocr.model.store import load_model
from ocr.training.datasets import Dataset, load
from ocr.training.evaluate import evaluate_predictions
from ocr.training.split import split

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def emnist(shared_data: Path) -> Dataset:
    return load(f"emnist:{shared_data / 'emnist' / 'byclass-test'}")


def test_loaders_read_the_real_files(shared_data: Path, emnist: Dataset) -> None:
    assert len(emnist) == 89_264  # 57,918 digits + 31,346 upper-case (the data README)
    assert int((emnist.labels >= 26).sum()) == 57_918
    c74 = load(f"chars74k:{shared_data / 'chars74k' / 'strokes-writers-00-39.json'}")
    assert len(c74) == 1_440 and len(np.unique(c74.groups)) == 40
    nist = load(f"mat:{shared_data / 'nist26' / 'nist26_valid.mat'}")
    assert len(nist) == 1_300 and set(CLASSES[i] for i in nist.labels) <= set(CLASSES[:26])
    balanced = load(f"emnist:{shared_data / 'emnist' / 'balanced-slice'}")
    assert 0 < len(balanced) < 9_120 + 304  # lower-case classes dropped


def test_shipped_model_meets_its_targets_on_unseen_data(shared_data: Path, emnist: Dataset) -> None:
    """The README's figures: EMNIST 36-class test split and held-out Chars74K writers."""
    rec = load_model()
    emnist_test = split(emnist)[2]
    c74_test = split(load(f"chars74k:{shared_data / 'chars74k' / 'strokes-writers-00-39.json'}"))[2]
    e = evaluate_predictions(emnist_test.labels, rec.predict_proba(emnist_test.images))
    c = evaluate_predictions(c74_test.labels, rec.predict_proba(c74_test.images))
    assert e.accuracy >= 0.91, e.accuracy
    assert c.accuracy >= 0.93, c.accuracy
    assert len(set(c74_test.groups.tolist())) == 10
    assert rec.manifest.metrics[
        "test/chars74k:strokes-writers-00-39.json"
    ].accuracy == pytest.approx(c.accuracy, abs=1e-9)
