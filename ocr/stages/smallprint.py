"""Small print apart from the handwriting: the labels of a form, found so the pipeline can
read them again at their own scale (at the handwriting's working resolution they are a dozen
pixels tall). Sizes in the page's character heights (ch), see
:class:`ocr.stages.fieldparams.FieldParams`.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ocr.stages.binarize import BoolImage, Scale
from ocr.stages.fieldparams import DEFAULT_FIELD_PARAMS, FieldParams


def split_print(
    mask: BoolImage, scale: Scale, params: FieldParams = DEFAULT_FIELD_PARAMS
) -> tuple[BoolImage, list[tuple[int, int, int, int]], float] | None:
    """The page's small print apart from its handwriting: components under
    ``print_max_ch`` tall that lie at least ``print_clear_ch`` from any taller ink (a label
    is set apart from the writing; a broken stroke of a letter is not).

    Returns the mask without them, the boxes (x0, y0, x1, y1) of their lines of print, and
    their median height (px), or None when there are fewer than ``print_min_parts``. Labels
    half the writing's height are a dozen pixels tall at the working resolution, too few to
    read: the pipeline reads each box again from the decoded page at the print's own scale."""
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
    small[0] = False
    if small.sum() < params.print_min_parts:
        return None
    print_mask = small[labels]
    height = float(np.median(heights[small[1:]]))
    # Lines of print: the print grown by a letter's height along the row, a third across.
    grown = ndi.maximum_filter(print_mask, size=(max(1, int(height / 3)), int(2 * height) + 1))
    boxes = []
    for sl in ndi.find_objects(ndi.label(grown)[0]):
        if sl is not None:
            boxes.append((sl[1].start, sl[0].start, sl[1].stop, sl[0].stop))
    return mask & ~print_mask, boxes, height
