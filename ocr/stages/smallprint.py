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


@dataclass(frozen=True)
class PrintSplit:
    hand: BoolImage
    """The page's mask without its print."""
    lines: list[PrintLine]
    height: float
    """Median height (px) of the print's components."""


def _outside_frames(
    slices: list[tuple[slice, slice] | None], frames: list[FrameBox], n: int
) -> np.ndarray:
    """Per component label (0..n), is its centre outside every field frame?"""
    out = np.zeros(n + 1, dtype=bool)
    if not frames:
        return out
    f = np.asarray(frames, dtype=np.float64)
    for k, sl in enumerate(slices, start=1):
        if sl is None:
            continue
        cy = (sl[0].start + sl[0].stop) / 2
        cx = (sl[1].start + sl[1].stop) / 2
        inside = (f[:, 0] <= cx) & (cx < f[:, 2]) & (f[:, 1] <= cy) & (cy < f[:, 3])
        out[k] = not inside.any()
    return out


def split_print(
    mask: BoolImage,
    scale: Scale,
    frames: list[FrameBox] | None = None,
    params: FieldParams = DEFAULT_FIELD_PARAMS,
) -> PrintSplit | None:
    """The page's print apart from its handwriting: components outside every field frame
    (on a form, what is not written in a field is printed: labels, headings), at least
    ``print_min_ch`` and at most ``print_frame_max_ch`` tall; and anywhere, components under
    ``print_max_ch`` tall at least ``print_clear_ch`` from any taller ink (a label is set
    apart from the writing; a broken stroke of a letter is not).

    Returns None when there are fewer than ``print_min_parts``. Labels are often half the
    writing's height, a dozen pixels at the working resolution, too few to read: the pipeline
    reads each line again from the decoded page at the print's own scale."""
    ch = scale.char_height
    labels, n = ndi.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return None
    slices = ndi.find_objects(labels)
    heights = np.array([sl[0].stop - sl[0].start if sl else 0 for sl in slices])
    small = np.zeros(n + 1, dtype=bool)
    small[1:] = (heights >= params.print_min_ch * ch) & (heights <= params.print_max_ch * ch)
    big = np.zeros(n + 1, dtype=bool)
    big[1:] = heights > params.print_max_ch * ch
    reach = max(1, int(round(params.print_clear_ch * ch)))
    near_big = ndi.maximum_filter(big[labels], size=2 * reach + 1)
    small[np.unique(labels[near_big])] = False
    sized = np.zeros(n + 1, dtype=bool)
    sized[1:] = (heights >= params.print_min_ch * ch) & (heights <= params.print_frame_max_ch * ch)
    small |= _outside_frames(slices, frames or [], n) & sized
    small[0] = False
    if small.sum() < params.print_min_parts:
        return None
    print_mask = small[labels]
    height = float(np.median(heights[small[1:]]))
    # Lines of print: the print grown by a letter's height along the row, a third across.
    grown = ndi.maximum_filter(print_mask, size=(max(1, int(height / 3)), int(2 * height) + 1))
    line_labels, _ = ndi.label(grown)
    lines = []
    for k, sl in enumerate(ndi.find_objects(line_labels), start=1):
        if sl is not None:
            own = print_mask[sl] & (line_labels[sl] == k)
            lines.append(PrintLine((sl[1].start, sl[0].start, sl[1].stop, sl[0].stop), own))
    return PrintSplit(mask & ~print_mask, lines, height)
