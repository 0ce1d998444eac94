"""Print apart from the handwriting: the labels and headings of a form, found so the pipeline
can read them again at their own scale (at the handwriting's working resolution they are a
dozen pixels tall). Sizes in the page's character heights (ch), see
:class:`ocr.stages.fieldparams.FieldParams`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from ocr.stages.binarize import BoolImage, Scale
from ocr.stages.fieldparams import DEFAULT_FIELD_PARAMS, FieldParams

FrameBox = tuple[int, int, int, int]
"""x0, y0, x1, y1 in working pixels, half-open."""


@dataclass(frozen=True)
class PrintLine:
    box: FrameBox
    own: BoolImage
    """The line's own print pixels inside ``box`` (box-sized): what its crop may read, so a
    neighbouring line or a value beside it cut into the same crop is not read twice."""
    height: float = 0.0
    """Median height (px) of its components."""


@dataclass(frozen=True)
class PrintSplit:
    hand: BoolImage
    """The page's mask without its print."""
    lines: list[PrintLine]
    height: float
    """Median height (px) of the print's components."""


def _boxes(slices: list[tuple[slice, slice] | None]) -> np.ndarray:
    """Per component (label - 1): y0, y1, x0, x1 (an empty label gets an empty box)."""
    out = np.zeros((len(slices), 4), dtype=np.int64)
    for k, sl in enumerate(slices):
        if sl is not None:
            out[k] = (sl[0].start, sl[0].stop, sl[1].start, sl[1].stop)
    return out


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each box of ``a`` (y0, y1, x0, x1 rows), does it overlap any box of ``b``?"""
    out = np.zeros(len(a), dtype=bool)
    for start in range(0, len(b), 256):  # bounded memory on pages of many parts
        c = b[start : start + 256]
        out |= (
            (a[:, None, 0] < c[None, :, 1])
            & (c[None, :, 0] < a[:, None, 1])
            & (a[:, None, 2] < c[None, :, 3])
            & (c[None, :, 2] < a[:, None, 3])
        ).any(axis=1)
    return out


def _inside_frames(boxes: np.ndarray, frames: list[FrameBox]) -> np.ndarray:
    """Per component, does its centre lie in a field frame?"""
    if not len(boxes):
        return np.zeros(len(boxes), dtype=bool)
    f = np.asarray(frames, dtype=np.float64)
    cy = (boxes[:, 0] + boxes[:, 1]) / 2
    cx = (boxes[:, 2] + boxes[:, 3]) / 2
    return (
        (f[None, :, 0] <= cx[:, None])
        & (cx[:, None] < f[None, :, 2])
        & (f[None, :, 1] <= cy[:, None])
        & (cy[:, None] < f[None, :, 3])
    ).any(axis=1)


def _group_lines(grown: np.ndarray) -> list[list[int]]:
    """Indices of boxes grouped into lines: overlapping (grown) boxes are one line."""
    n = len(grown)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        hit = np.flatnonzero(
            (grown[i, 0] < grown[i + 1 :, 1])
            & (grown[i + 1 :, 0] < grown[i, 1])
            & (grown[i, 2] < grown[i + 1 :, 3])
            & (grown[i + 1 :, 2] < grown[i, 3])
        )
        for j in hit + i + 1:
            parent[root(int(j))] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def split_print(
    mask: BoolImage,
    scale: Scale,
    frames: list[FrameBox] | None = None,
    params: FieldParams = DEFAULT_FIELD_PARAMS,
) -> PrintSplit | None:
    """The page's print apart from its handwriting: components outside every field frame
    (on a form, what is not written in a field is printed: labels, headings), at least
    ``print_min_ch`` and at most ``print_frame_max_ch`` tall; and anywhere, components under
    ``print_max_ch`` tall whose box is at least ``print_clear_ch`` from the box of any
    taller ink (a label is set apart from the writing; a broken stroke of a letter is not).

    Returns None when there are fewer than ``print_min_parts``. Labels are often half the
    writing's height, a dozen pixels at the working resolution, too few to read: the pipeline
    reads each line again from the decoded page at the print's own scale. Everything after
    the labelling works on component boxes (a page's filters cost more than its reading)."""
    ch = scale.char_height
    labels, n = ndi.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return None
    boxes = _boxes(ndi.find_objects(labels))
    heights = boxes[:, 1] - boxes[:, 0]
    small = (heights >= params.print_min_ch * ch) & (heights <= params.print_max_ch * ch)
    big = heights > params.print_max_ch * ch
    reach = max(1, int(round(params.print_clear_ch * ch)))
    if small.any() and big.any():
        grown_big = boxes[big] + np.array([-reach, reach, -reach, reach])
        idx = np.flatnonzero(small)
        small[idx[_overlap(boxes[idx], grown_big)]] = False
    sized = (heights >= params.print_min_ch * ch) & (heights <= params.print_frame_max_ch * ch)
    if frames:  # without frames nothing says where the writing is
        small |= sized & ~_inside_frames(boxes, frames)
    if small.sum() < params.print_min_parts:
        return None
    lut = np.zeros(n + 1, dtype=bool)
    lut[1:] = small
    print_mask = lut[labels]
    height = float(np.median(heights[small]))
    # Lines of print: boxes grown by a letter's height along the row, a sixth across.
    idx = np.flatnonzero(small)
    gy, gx = max(0, int(height / 6)), int(height)
    grown = boxes[idx] + np.array([-gy, gy, -gx, gx])
    h, w = mask.shape
    lines = []
    for group in _group_lines(grown):
        g = grown[group]
        y0, y1 = max(0, int(g[:, 0].min())), min(h, int(g[:, 1].max()))
        x0, x1 = max(0, int(g[:, 2].min())), min(w, int(g[:, 3].max()))
        members = np.zeros(n + 1, dtype=bool)
        members[idx[group] + 1] = True
        own = members[labels[y0:y1, x0:x1]]
        tall = float(np.median(heights[idx[group]]))
        lines.append(PrintLine((x0, y0, x1, y1), own, tall))
    return PrintSplit(mask & ~print_mask, lines, height)
