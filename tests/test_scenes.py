"""Synthetic scenes: every kind renders, keeps its truth text, and its truth boxes still sit
on the ink after the scene's transforms."""

from __future__ import annotations

import numpy as np
import pytest

from ocr.synth.scenes import SCENE_KINDS, desk_texture, make_scenes, texture_photo


@pytest.mark.parametrize("kind", SCENE_KINDS)
def test_scene_kind_keeps_text_and_boxes_on_ink(kind: str) -> None:
    (scene,) = make_scenes(1, kind, writers=[3], seed=5, source="builtin")
    h, w = scene.image.shape[:2]
    assert scene.image.dtype == np.uint8 and scene.image.ndim == 3
    assert scene.text and all(ln.chars for ln in scene.lines)
    grey = scene.image.min(axis=2).astype(np.float32)
    paper = np.percentile(grey, 90)
    darker = []
    for ln in scene.lines:
        for c in ln.chars:
            x0, y0, x1, y1 = c.box
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
            darker.append(grey[y0:y1, x0:x1].min() < 0.7 * paper)
    assert np.mean(darker) > 0.95  # the box still covers its character's ink


def test_same_arguments_give_the_same_scene() -> None:
    a = make_scenes(1, "shadow", writers=[2], seed=9, source="builtin")[0]
    b = make_scenes(1, "shadow", writers=[2], seed=9, source="builtin")[0]
    assert np.array_equal(a.image, b.image) and a.text == b.text


def test_desks_are_distinct_from_paper() -> None:
    rng = np.random.default_rng(0)
    wood = desk_texture(rng, (200, 300), "wood")
    assert wood.shape == (200, 300, 3)
    # Wood is orange-brown: red above blue everywhere.
    assert (wood[..., 0] > wood[..., 2]).mean() > 0.99
    photo = texture_photo(rng, (320, 240), "fabric")
    assert photo.shape == (240, 320, 3)
    with pytest.raises(ValueError, match="unknown desk"):
        desk_texture(rng, (10, 10), "glass")


def test_touching_scenes_letters_touch_where_plain_pages_leave_gaps() -> None:
    def gaps(kind: str) -> list[float]:
        """Gaps between neighbouring letters of a word, in their boxes' heights."""
        (scene,) = make_scenes(1, kind, writers=[3], seed=5, source="builtin")
        out = []
        for ln in scene.lines:
            chars = iter(ln.chars)
            for word in ln.text.split():
                boxes = [next(chars).box for _ in word]
                out += [
                    (b[0] - a[2]) / (a[3] - a[1]) for a, b in zip(boxes, boxes[1:], strict=False)
                ]
        return out

    # A shadow scene is a plain page under a shadow: its letters keep their usual gaps.
    assert np.median(gaps("touching")) < 0.05 < np.median(gaps("shadow"))
