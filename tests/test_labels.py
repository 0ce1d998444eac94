"""Component boxes and counts read at the labelled pixels equal scipy's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from ocr.stages.labels import label_boxes, select


@pytest.mark.parametrize("seed", range(6))
def test_boxes_and_counts_equal_find_objects_and_bincount(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 90)), int(rng.integers(1, 90)))
    mask = rng.random(shape) < rng.choice([0.0, 0.02, 0.3, 0.6, 1.0])
    structure = np.ones((3, 3), bool) if seed % 2 else None
    labels, n = ndi.label(mask, structure=structure)
    boxes = label_boxes(labels, n)
    slices = ndi.find_objects(labels)
    assert len(boxes.area) == n == len(slices)
    assert boxes.y0.tolist() == [s[0].start for s in slices]
    assert boxes.y1.tolist() == [s[0].stop for s in slices]
    assert boxes.x0.tolist() == [s[1].start for s in slices]
    assert boxes.x1.tolist() == [s[1].stop for s in slices]
    assert boxes.area.tolist() == np.bincount(labels.ravel(), minlength=n + 1)[1:].tolist()
    keep = rng.random(n + 1) < 0.5
    keep[0] = False
    assert np.array_equal(select(labels, keep), keep[labels])


def test_labels_missing_from_the_image_are_an_error() -> None:
    labels = np.array([[0, 2, 2]], dtype=np.int32)
    with pytest.raises(ValueError, match="labels 1..2"):
        label_boxes(labels, 2)
