"""Find the sheet of paper in a photo of a sheet lying on something else, and rectify it.

Why: on a photo of a sheet on a desk, the desk (wood grain, fabric) and the sheet's own
edges are read as thousands of characters. Reading only inside the sheet removes them, and
undoing the perspective gives the later stages level lines of even-sized characters.

How: on a 320 px thumbnail with the writing closed away, a marker-based watershed on the
gradient of the brightest channel grows the picture's centre (assumed on the sheet) and the
sides of its border that look like a desk (darker, rougher, or darker and of another colour
than the centre's paper) until they meet on the strongest boundary between them. The
centre's basin is the sheet when most of what it leaves out looks like a desk too (a shadow
or a coloured lamp's edge leaves paper out, and is no sheet's edge) and its outline is
roughly quadrilateral. Its four corners (the largest-area quadrilateral on its convex hull)
give a projective transform to an upright rectangle; pixels outside the basin (a torn edge,
the desk in a corner) are cleared after binarization.

A scan, a whiteboard or a close crop has no distinct background: the centre and the border
ring look alike, and :func:`find_sheet` returns a :class:`SheetSearch` without a sheet.
Everything here is relative to the picture's size: before the writing is measured there is
no other unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw
from scipy import ndimage as ndi
from scipy.spatial import ConvexHull
from skimage.measure import find_contours
from skimage.segmentation import watershed
from skimage.transform import ProjectiveTransform, estimate_transform

from ocr.stages.binarize import PreparedPage

FloatImage = NDArray[np.float32]
BoolImage = NDArray[np.bool_]


@dataclass(frozen=True)
class SheetParams:
    """Sheet search parameters; lengths are fractions of the thumbnail's long side unless
    the name says otherwise."""

    thumb_long_side: int = 320
    """Long side (px) of the thumbnail searched: a sheet's outline needs no more, and the
    watershed costs a few ms there whatever the photo's size."""
    close_size: float = 1.0 / 80.0
    """Grey closing that erases writing before the gradient: wider than a pen stroke at
    thumbnail scale, narrower than a sheet's margin."""
    smooth_sigma: float = 1.0 / 200.0
    """Gaussian smoothing before the gradient, so desk texture (wood grain, fabric weave)
    makes weaker ridges than the sheet's edge."""
    centre_marker: float = 0.12
    """Side of the central seed square (assumed to lie on the sheet)."""
    border_ring: float = 0.02
    """Width of the border seed ring (assumed to be background)."""
    min_area: float = 0.08
    """Smallest sheet, as a share of the picture's area: a smaller bright patch is a label
    or a reflection, not the page."""
    max_area: float = 0.985
    """A basin covering more than this share of the picture is no distinct sheet."""
    dark_ratio: float = 0.62
    """A border pixel seeds the background when its brightness (writing closed away) is
    below this share of the centre's paper -- darker than a hand's shadow on paper
    (shadows darken by 20-45 %: paper in a shadow must not be cut off as desk) ..."""
    texture_ratio: float = 2.0
    """... or when its local contrast (std over ``close_size``) exceeds the centre's by this
    factor ..."""
    min_texture: float = 0.03
    """... and this absolute floor (grey 0..1): paper grain and sensor noise stay below it,
    wood grain, fabric weave and speckled stone exceed it."""
    min_chroma_shift: float = 0.04
    """Chromaticity (channel share) difference from the paper that counts as another colour
    (white paper 0.33 each; light oak about 0.42 / 0.33 / 0.25)."""
    colour_dark_ratio: float = 0.85
    """... or when it is rougher than ``texture_ratio`` times the paper (no floor) and either
    of another colour or darker than this share of the paper: a light oak desk, a light
    speckled stone top."""
    desk_edge_weight: float = 0.3
    """Weight of the desk-likeness edge beside the brightness edge in the watershed's
    gradient (a step from all desk-like to none weighs like a 0.3 grey step)."""
    paper_percentile: float = 25.0
    """Percentile of the centre's local contrast taken as the paper's own grain (writing
    covers far less than three quarters of a page's centre)."""
    min_background_side: float = 0.5
    """Share of one side of the border ring that must look like background for that side to
    seed it; with no such side the search stops early (scans and close crops pay little)."""
    min_desk_outside: float = 0.7
    """Share of what the basin leaves out that must look like background for the basin to be
    the sheet. Desks left out by the basin on validation scenes: 0.81-1.0. A page filling the
    photo under a coloured lamp is left out where the lamp's colour and the page's printed
    rules make every rule's band look like grain, and nothing between the bands: 0.4-0.6
    (at 0.5 a blurred or recompressed photo of such a page lost its lamp-lit half)."""
    min_fill: float = 0.80
    """Share of its quadrilateral the basin must fill to count as a roughly quadrilateral
    sheet (a torn sheet fills ~0.85, a blob or a desk pattern much less)."""
    outside_edge: float = 0.01
    """Basin pixels this close to the picture's edge mean the sheet runs out of the photo."""
    partly_outside_share: float = 0.08
    """Share of the sheet's outline lying on the picture's edge above which the result warns
    that the sheet is partly outside the picture."""
    edge_clear_ch: float = 0.3
    """Band (character heights) inside the sheet's outline that is cleared of ink: the
    outline's own shadow and the desk's last pixels, never where writing sits on a page with
    margins."""
    max_upscale: float = 1.0
    """The rectified sheet is never larger than the decoded picture's scale: projective
    resampling cannot add detail."""


@dataclass(frozen=True)
class Sheet:
    """A found sheet: corners in DECODED pixels, clockwise from the top-left as seen."""

    corners: NDArray[np.float64]
    """4 x 2 (x, y), order top-left, top-right, bottom-right, bottom-left."""
    size: tuple[int, int]
    """(width, height) of the rectified sheet in pixels."""
    fill: float
    """Share of the quadrilateral covered by the basin (1 for a clean rectangle)."""
    partly_outside: bool
    """The sheet's outline runs along the picture's edge: part of it may be cut off."""
    inside: BoolImage = field(repr=False)
    """Basin mask at thumbnail resolution (True on the sheet), for :func:`rectify`."""
    thumb_factor: float = 1.0
    """Thumbnail px per decoded px."""

    def homography(self) -> NDArray[np.float64]:
        """3 x 3 matrix mapping rectified (x, y, 1) to decoded pixels."""
        w, h = self.size
        dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
        return homography(dst, self.corners)

    def box_to_input(self, box: tuple[float, float, float, float]) -> tuple[float, ...]:
        """Axis-aligned bounds, in decoded pixels, of a rectified box's four corners."""
        x0, y0, x1, y1 = box
        pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
        q = apply_homography(pts, self.homography())
        return (
            float(q[:, 0].min()),
            float(q[:, 1].min()),
            float(q[:, 0].max()),
            float(q[:, 1].max()),
        )


@dataclass(frozen=True)
class SheetSearch:
    """What the search saw: a sheet, or why there is none."""

    sheet: Sheet | None
    background_seen: bool
    """The picture's border differs from its centre (a scene, not a scan): with no sheet
    found, a reviewer should know the desk may have been read as writing."""
    reason: str


@dataclass(frozen=True)
class Rectified:
    """The sheet as an upright image and the mask of its own pixels (the rest is desk)."""

    pixels: NDArray[np.uint8]
    inside: BoolImage


def homography(src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64]:
    """3 x 3 projective matrix H with dst ~ H src, from four (or more) point pairs."""
    # estimate_transform exists in every scikit-image the project allows (>= 0.22);
    # ProjectiveTransform.from_estimate only from 0.26.
    t = estimate_transform(
        "projective", np.asarray(src, dtype=np.float64), np.asarray(dst, dtype=np.float64)
    )
    if t is None or not np.all(np.isfinite(t.params)):
        raise ValueError(f"degenerate quadrilateral {np.asarray(dst).tolist()}")
    return np.asarray(t.params, dtype=np.float64)


def apply_homography(points: NDArray[np.float64], hmat: NDArray[np.float64]) -> NDArray[np.float64]:
    """Points (N x 2) mapped through ``hmat``."""
    return np.asarray(ProjectiveTransform(matrix=hmat)(points), dtype=np.float64)


def thumbnail(image: NDArray[np.uint8], long_side: int) -> tuple[NDArray[np.uint8], float]:
    """uint8 thumbnail (RGB, or grey for a grey input) and its px per input px.

    Two strided samples per output pixel (offset by half a step) are averaged instead of an
    area average: the search closes the writing away and smooths anyway, and on a 12 MP photo
    any full-resolution pass (even PIL's ``fromarray`` copy) costs more than the search."""
    a = np.asarray(image)
    h, w = a.shape[:2]
    n = max(1, int(np.ceil(max(h, w) / long_side)))
    o = n // 2
    one = a[: h - o : n, : w - o : n]
    two = a[o::n, o::n][: one.shape[0], : one.shape[1]]
    if a.ndim == 3:
        one, two = one[..., :3], two[..., :3]
    t = ((one.astype(np.uint16) + two) // 2).astype(np.uint8)
    return t, t.shape[1] / w


def chromaticity(rgb: NDArray[np.uint8]) -> FloatImage:
    """Channel shares (r, g, b) / (r + g + b): the colour of a surface whatever its lighting
    level, so a shadow on paper keeps the paper's chromaticity and a wooden desk does not."""
    if rgb.ndim == 2:
        return np.full((*rgb.shape, 3), 1.0 / 3.0, dtype=np.float32)
    f = rgb.astype(np.float32) + np.float32(1.0)
    return (f / f.sum(axis=2, keepdims=True)).astype(np.float32)


def quad_on_hull(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """The largest-area quadrilateral with vertices among ``points`` (a convex outline),
    by coordinate ascent from the extremes along the two diagonals."""
    pts = np.asarray(points, dtype=np.float64)
    s, d = pts.sum(axis=1), pts[:, 0] - pts[:, 1]
    idx = [int(np.argmin(s)), int(np.argmax(d)), int(np.argmax(s)), int(np.argmin(d))]

    def area(q: NDArray[np.float64]) -> float:
        x, y = q[:, 0], q[:, 1]
        return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))

    best = area(pts[idx])
    for _ in range(6):
        moved = False
        for k in range(4):
            q = np.repeat(pts[idx][None], len(pts), axis=0)
            q[:, k] = pts
            x, y = q[..., 0], q[..., 1]
            areas = 0.5 * np.abs(
                (x * np.roll(y, -1, axis=1)).sum(axis=1) - (y * np.roll(x, -1, axis=1)).sum(axis=1)
            )
            j = int(np.argmax(areas))
            if areas[j] > best + 1e-9:
                best, idx[k], moved = float(areas[j]), j, True
        if not moved:
            break
    return order_corners(pts[idx])


def order_corners(q: NDArray[np.float64]) -> NDArray[np.float64]:
    """Corners ordered top-left, top-right, bottom-right, bottom-left (as seen)."""
    c = q.mean(axis=0)
    ang = np.arctan2(q[:, 1] - c[1], q[:, 0] - c[0])
    q = q[np.argsort(ang)]  # clockwise on screen (y down), starting anywhere
    start = int(np.argmin(q.sum(axis=1)))
    return np.roll(q, -start, axis=0)


def _poly_mask(q: NDArray[np.float64], shape: tuple[int, int]) -> BoolImage:
    img = Image.new("L", (shape[1], shape[0]), 0)
    ImageDraw.Draw(img).polygon([(float(x), float(y)) for x, y in q], fill=1)
    return np.asarray(img, dtype=bool)


def _local_contrast(grey: FloatImage, size: int) -> FloatImage:
    mean = ndi.uniform_filter(grey, size)
    sq = ndi.uniform_filter(grey * grey, size)
    return np.sqrt(np.maximum(sq - mean * mean, 0.0)).astype(np.float32)


Features = tuple[FloatImage, FloatImage, FloatImage]
"""Closed brightest channel (writing erased), local contrast, smoothed chromaticity."""


def _features(rgb: NDArray[np.uint8], k: int) -> Features:
    grey = rgb.max(axis=2) if rgb.ndim == 3 else rgb  # paper stays bright under coloured light
    closed = ndi.grey_closing(grey, size=k).astype(np.float32) / np.float32(255.0)
    # Roughness of the raw thumbnail: closing would erase wood grain and speckles with the
    # writing.
    texture = _local_contrast(grey.astype(np.float32) / np.float32(255.0), k)
    chroma = ndi.uniform_filter(chromaticity(rgb), size=(k, k, 1))
    return closed, texture, chroma


@dataclass(frozen=True)
class _Paper:
    """The centre's paper, what the background must differ from."""

    level: float
    rough: float
    """Local contrast above which a surface is rough whatever its colour."""
    grain: float
    """Local contrast above which a surface of another colour is rough (no absolute floor)."""
    chroma: NDArray[np.float32]


def _unlike(f: Features, paper: _Paper, params: SheetParams) -> BoolImage:
    """Pixels unlike the paper: much darker, or rough, or grainier and either of another
    colour or somewhat darker. A shadow on paper only darkens it and a coloured lamp changes
    its colour (sometimes its brightness too), but neither makes it grainy; a desk's grain,
    weave or speckles do."""
    closed, texture, chroma = f
    off_colour = np.abs(chroma - paper.chroma).max(axis=-1) > params.min_chroma_shift
    darker = closed < params.colour_dark_ratio * paper.level
    grainy = texture > paper.grain
    return np.asarray(
        (closed < params.dark_ratio * paper.level)
        | (texture > paper.rough)
        | (grainy & (off_colour | darker))
    )


def find_sheet(image: NDArray[np.uint8], params: SheetParams = SheetParams()) -> SheetSearch:
    """Look for a distinct sheet in a decoded picture (RGB or grey, uint8)."""
    rgb, tf = thumbnail(image, params.thumb_long_side)
    h, w = rgb.shape[:2]
    long_side = max(h, w)
    k = max(3, int(round(params.close_size * long_side)) | 1)
    ring = max(1, int(round(params.border_ring * long_side)))
    half = max(1, int(round(params.centre_marker * long_side / 2)))
    cy, cx = h // 2, w // 2
    centre = np.zeros((h, w), dtype=bool)
    centre[cy - half : cy + half, cx - half : cx + half] = True
    # The centre's paper, measured on the centre square alone (padded for the filters).
    y0, x0 = max(0, cy - half - k), max(0, cx - half - k)
    closed_c, texture_c, chroma_c = _features(rgb[y0 : cy + half + k, x0 : cx + half + k], k)
    inner = np.s_[cy - half - y0 : cy + half - y0, cx - half - x0 : cx + half - x0]
    # Writing in the centre raises its roughness, so the reference has a floor.
    paper = _Paper(
        float(np.median(closed_c[inner])),
        max(params.texture_ratio * float(np.median(texture_c[inner])), params.min_texture),
        # The paper between the strokes: writing in the centre makes the median rough.
        params.texture_ratio * float(np.percentile(texture_c[inner], params.paper_percentile)),
        np.median(chroma_c[inner].reshape(-1, chroma_c.shape[-1]), axis=0),
    )
    # Background seeds: border pixels unlike the paper, on the sides of the picture where
    # most of the border is so. A side of the centre's kind (paper running out of the frame,
    # a scan, paper under a coloured light) and isolated rough spots (punched holes, a rule's
    # end) seed nothing, so the sheet may grow there. The sides are judged on strips alone:
    # most pictures (scans, pages filling the frame) stop here.
    sides = []
    for side, strip, own in (
        (np.s_[:ring, :], np.s_[: ring + k, :], np.s_[:ring, :]),
        (np.s_[-ring:, :], np.s_[-(ring + k) :, :], np.s_[-ring:, :]),
        (np.s_[:, :ring], np.s_[:, : ring + k], np.s_[:, :ring]),
        (np.s_[:, -ring:], np.s_[:, -(ring + k) :], np.s_[:, -ring:]),
    ):
        if (
            _unlike(_features(rgb[strip], k), paper, params)[own].mean()
            >= params.min_background_side
        ):
            sides.append(side)
    if not sides:
        return SheetSearch(None, False, "the border looks like the centre (a scan or close crop)")
    features = _features(rgb, k)
    closed = features[0]
    unlike = _unlike(features, paper, params)
    back = np.zeros((h, w), dtype=bool)
    for side in sides:
        back[side] = unlike[side]
    sigma = max(0.5, params.smooth_sigma * long_side)
    smooth = ndi.gaussian_filter(closed, sigma)
    # The boundary is where brightness changes or where desk-like pixels begin: a bright,
    # busy texture (gravel, grass) closes to nearly the paper's brightness, but its share of
    # desk-like pixels still drops from ~1 to 0 at the sheet's edge.
    desk_share = ndi.uniform_filter(unlike.astype(np.float32), size=2 * k + 1)
    grad = np.hypot(ndi.sobel(smooth, 0), ndi.sobel(smooth, 1)) + params.desk_edge_weight * (
        np.hypot(ndi.sobel(desk_share, 0), ndi.sobel(desk_share, 1))
    )
    markers = np.where(centre, 1, np.where(back, 2, 0)).astype(np.int32)
    basin = ndi.binary_fill_holes(watershed(grad, markers) == 1)
    share = float(basin.mean())
    if share > params.max_area:
        return SheetSearch(None, False, "the picture is all sheet (a scan or close crop)")
    if share < params.min_area:
        return SheetSearch(None, True, f"the brightest smooth region covers {share:.0%} only")
    desk_like = float(unlike[~basin].mean())
    if desk_like < params.min_desk_outside:
        # What the basin leaves out is mostly like the paper: cutting it would cut the sheet
        # (a coloured lamp's edge, a shadow), so the picture is read whole.
        return SheetSearch(None, True, f"only {desk_like:.0%} of the outside looks like a desk")
    contour = max(find_contours(np.pad(basin, 1).astype(np.float32), 0.5), key=len) - 1.0
    xy = np.clip(contour[:, ::-1], 0, [w - 1, h - 1])
    quad = quad_on_hull(xy[ConvexHull(xy).vertices])
    qmask = _poly_mask(quad, (h, w))
    fill = float((basin & qmask).sum() / max(1, qmask.sum()))
    if fill < params.min_fill:
        return SheetSearch(None, True, f"the bright region is no quadrilateral (fill {fill:.2f})")
    edge = max(1, int(round(params.outside_edge * long_side)))
    on_edge = (
        (xy[:, 0] < edge)
        | (xy[:, 1] < edge)
        | (xy[:, 0] > w - 1 - edge)
        | (xy[:, 1] > h - 1 - edge)
    )
    partly = float(on_edge.mean()) > params.partly_outside_share
    corners = quad / tf
    sw = (np.hypot(*(corners[1] - corners[0])) + np.hypot(*(corners[2] - corners[3]))) / 2
    sh = (np.hypot(*(corners[3] - corners[0])) + np.hypot(*(corners[2] - corners[1]))) / 2
    img_h, img_w = np.shape(image)[:2]
    # Never more pixels than the picture had (perspective foreshortening is not detail).
    f = min(1.0, params.max_upscale * float(np.sqrt(img_w * img_h / max(sw * sh, 1.0))))
    size = (max(1, int(round(sw * f))), max(1, int(round(sh * f))))
    return SheetSearch(Sheet(corners, size, fill, partly, basin, tf), True, "sheet found")


def rectify(image: NDArray[np.uint8], sheet: Sheet) -> Rectified:
    """The sheet warped to an upright ``sheet.size`` rectangle (bilinear, PIL), and which of
    its pixels lie on the sheet itself."""
    hmat = sheet.homography()
    coeffs = tuple(float(v) for v in (hmat / hmat[2, 2]).ravel()[:8])
    img = Image.fromarray(np.ascontiguousarray(image))
    out = img.transform(sheet.size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)
    # The basin mask, through the same transform at thumbnail scale: scale the matrix.
    s = np.diag([sheet.thumb_factor, sheet.thumb_factor, 1.0])
    th = s @ hmat
    tc = tuple(float(v) for v in (th / th[2, 2]).ravel()[:8])
    inside = Image.fromarray(sheet.inside.astype(np.uint8) * 255).transform(
        sheet.size, Image.Transform.PERSPECTIVE, tc, Image.Resampling.BILINEAR
    )
    return Rectified(np.asarray(out), np.asarray(inside) > 127)


def clear_outside(
    page: PreparedPage, inside: BoolImage, params: SheetParams = SheetParams()
) -> PreparedPage:
    """The binarized sheet with everything outside the sheet's own pixels cleared: a torn
    edge, a corner of desk inside the rectified rectangle. The outline is known to a few
    thumbnail pixels only, so the cleared band reaches ``edge_clear_ch`` inside it."""
    h, w = page.mask.shape
    keep = (
        np.asarray(
            Image.fromarray(inside.astype(np.uint8) * 255).resize((w, h), Image.Resampling.NEAREST)
        )
        > 127
    )
    band = max(1, int(round(params.edge_clear_ch * page.scale.char_height)))
    keep = ndi.minimum_filter(keep, size=2 * band + 1, mode="constant", cval=False)
    mask = page.mask & keep
    ink = np.where(mask, page.ink, np.float32(0.0)).astype(np.float32)
    dark = None if page.dark is None else np.where(mask, page.dark, np.float32(0.0))
    return replace(page, ink=ink, mask=mask, dark=dark)
