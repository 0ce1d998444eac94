"""Training-time augmentation on batches of normalized 32x32 glyphs, fully vectorized.

Every transform works on the whole (B, 32, 32) batch at once so an epoch over ~100k
samples costs seconds, not minutes. Geometry (rotation, shear, scale, shift, elastic) is one
bilinear resampling; then stroke thickness, blur, contrast and noise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray

from ocr.stages.normalize import SIZE

Batch = NDArray[np.float32]


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges are uniform +-; angles in degrees, shifts in pixels of the 32x32 square."""

    rotation: float = 8.0
    shear: float = 0.25
    scale: float = 0.12
    aspect: float = 0.12
    shift: float = 1.5
    elastic: float = 1.2
    """Peak displacement of the smooth elastic field, in pixels."""
    elastic_grid: int = 4
    """Control points per side of the elastic field (smoothness)."""
    thicken: float = 0.2
    thin: float = 0.15
    """Probabilities of a 3x3 grey dilation / erosion (stroke width change)."""
    blur: float = 0.2
    noise: float = 0.04
    """Standard deviation of additive Gaussian noise."""
    contrast: float = 0.3
    """Ink peak drawn from [1 - contrast, 1]."""

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def _upsample_matrix(n_ctrl: int, n_out: int) -> NDArray[np.float32]:
    """Linear interpolation weights from n_ctrl control points to n_out samples."""
    pos = np.linspace(0, n_ctrl - 1, n_out)
    lo = np.clip(np.floor(pos).astype(int), 0, n_ctrl - 2)
    frac = pos - lo
    m = np.zeros((n_out, n_ctrl), dtype=np.float32)
    m[np.arange(n_out), lo] = 1 - frac
    m[np.arange(n_out), lo + 1] = frac
    return m


def warp(batch: Batch, rng: np.random.Generator, cfg: AugmentConfig) -> Batch:
    """Random affine + elastic resampling, bilinear, zero outside."""
    b = len(batch)
    c = (SIZE - 1) / 2
    theta = np.deg2rad(rng.uniform(-cfg.rotation, cfg.rotation, b))
    shear = rng.uniform(-cfg.shear, cfg.shear, b)
    s = 1.0 + rng.uniform(-cfg.scale, cfg.scale, b)
    a = 1.0 + rng.uniform(-cfg.aspect, cfg.aspect, b)
    sx, sy = s * a, s / a
    cos, sin = np.cos(theta), np.sin(theta)
    # Inverse map (output -> source): M = R(theta) @ Shear @ diag(1/sx, 1/sy).
    m00 = (cos + -sin * 0) / sx
    m01 = (cos * shear - sin) / sy
    m10 = sin / sx
    m11 = (sin * shear + cos) / sy
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    xs, ys = xs - c, ys - c
    src_x = m00[:, None, None] * xs + m01[:, None, None] * ys + c
    src_y = m10[:, None, None] * xs + m11[:, None, None] * ys + c
    src_x += rng.uniform(-cfg.shift, cfg.shift, (b, 1, 1))
    src_y += rng.uniform(-cfg.shift, cfg.shift, (b, 1, 1))
    if cfg.elastic > 0:
        up = _upsample_matrix(cfg.elastic_grid, SIZE)
        field = rng.uniform(-cfg.elastic, cfg.elastic, (2, b, cfg.elastic_grid, cfg.elastic_grid))
        smooth = up @ field.astype(np.float32) @ up.T
        src_x += smooth[0]
        src_y += smooth[1]
    return bilinear(batch, src_x.astype(np.float32), src_y.astype(np.float32))


def bilinear(batch: Batch, src_x: Batch, src_y: Batch) -> Batch:
    """Sample batch[i] at (src_y, src_x) per output pixel; outside the square reads 0."""
    b = len(batch)
    padded = np.zeros((b, SIZE + 2, SIZE + 2), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = batch
    x = np.clip(src_x + 1, 0, SIZE)
    y = np.clip(src_y + 1, 0, SIZE)
    x0 = np.floor(x).astype(np.intp)
    y0 = np.floor(y).astype(np.intp)
    x1 = np.minimum(x0 + 1, SIZE + 1)
    y1 = np.minimum(y0 + 1, SIZE + 1)
    fx, fy = x - x0, y - y0
    idx = np.arange(b)[:, None, None]
    top = padded[idx, y0, x0] * (1 - fx) + padded[idx, y0, x1] * fx
    bot = padded[idx, y1, x0] * (1 - fx) + padded[idx, y1, x1] * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)


def _neighbourhood(batch: Batch, reduce: str) -> Batch:
    """3x3 grey dilation ('max') or erosion ('min')."""
    p = np.pad(batch, ((0, 0), (1, 1), (1, 1)), mode="constant")
    shifts = [p[:, dy : dy + SIZE, dx : dx + SIZE] for dy in range(3) for dx in range(3)]
    return np.max(shifts, axis=0) if reduce == "max" else np.min(shifts, axis=0)


def _blur(batch: Batch) -> Batch:
    """Separable [1, 2, 1] / 4 blur."""
    p = np.pad(batch, ((0, 0), (1, 1), (1, 1)), mode="constant")
    h = (p[:, :, :-2] + 2 * p[:, :, 1:-1] + p[:, :, 2:]) / 4
    return ((h[:, :-2] + 2 * h[:, 1:-1] + h[:, 2:]) / 4).astype(np.float32)


def augment(batch: Batch, rng: np.random.Generator, cfg: AugmentConfig) -> Batch:
    """Return an augmented copy of a (B, 32, 32) batch in [0, 1]."""
    out = warp(batch, rng, cfg)
    b = len(out)
    for p, reduce in ((cfg.thicken, "max"), (cfg.thin, "min")):
        pick = rng.random(b) < p
        if pick.any():
            out[pick] = _neighbourhood(out[pick], reduce)
    pick = rng.random(b) < cfg.blur
    if pick.any():
        out[pick] = _blur(out[pick])
    if cfg.contrast > 0:
        out *= rng.uniform(1 - cfg.contrast, 1.0, (b, 1, 1)).astype(np.float32)
    if cfg.noise > 0:
        out += rng.normal(0, cfg.noise, out.shape).astype(np.float32)
    return np.clip(out, 0.0, 1.0, out=out)
