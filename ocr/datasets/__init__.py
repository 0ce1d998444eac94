"""Dataset loaders. Every loader returns a :class:`Dataset` in the canonical form:
``images`` (N, 32, 32) float32 in [0, 1] with ink = 1, normalized by
:func:`ocr.normalize.normalize_glyph`, and ``labels`` over :data:`ocr.classes.CLASSES`."""

from ocr.datasets.base import Dataset, file_sha256, load, parse_spec

__all__ = ["Dataset", "file_sha256", "load", "parse_spec"]
