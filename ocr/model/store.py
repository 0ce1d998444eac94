"""A model directory on disk: ``model.npz`` (arrays only) + ``manifest.json``.

Loading checks the sha256 of ``model.npz`` against the manifest before reading a single
array, and reads with ``allow_pickle=False``: a model is data, never code.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import ThreadpoolController

from ocr.model.classes import CLASSES, NUM_OUTPUTS, OUTPUTS
from ocr.model.mlp import MLP, Architecture
from ocr.stages.normalize import GLYPH_BOX, INK_FRACTION, NORMALIZATION_ID, SIZE
from schemas.manifest import ArchitectureSpec, ModelManifest, NormalizationSpec

WEIGHTS_FILE = "model.npz"
MANIFEST_FILE = "manifest.json"
DEFAULT_MODEL_DIR = Path(__file__).parents[1] / "models" / "default"


class ModelError(Exception):
    """A model directory that cannot be trusted or used."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def current_normalization() -> NormalizationSpec:
    return NormalizationSpec(
        id=NORMALIZATION_ID, size=SIZE, glyph_box=GLYPH_BOX, ink_fraction=INK_FRACTION
    )


def architecture_spec(arch: Architecture, members: int) -> ArchitectureSpec:
    return ArchitectureSpec(
        n_in=arch.n_in,
        hidden=list(arch.hidden),
        n_out=arch.n_out,
        activation=arch.activation,
        dropout=arch.dropout,
        members=members,
    )


@functools.cache
def blas_controller() -> ThreadpoolController:
    """Introspecting the loaded BLAS libraries takes milliseconds; limiting them microseconds."""
    return ThreadpoolController()


@dataclass
class Recognizer:
    """One or more MLPs whose probabilities are averaged; the unit the pipeline calls."""

    networks: list[MLP]
    manifest: ModelManifest

    @property
    def version(self) -> str:
        return self.manifest.version

    def predict_proba(self, glyphs: NDArray[np.floating]) -> NDArray[np.float32]:
        """(N, 32, 32) normalized glyphs -> (N, 37) probabilities, one batched pass each.

        Column 36 is "not a character" (:data:`ocr.model.classes.NOT_CHAR_INDEX`). A model trained
        before that class existed (36 outputs, still in registries) gets a zero column there,
        so callers see one shape and such a model simply never rejects a crop.

        BLAS runs on one thread here: a page's batch is small, and multi-threaded BLAS sums
        in another order, so the same page would get probabilities differing in the last bits
        between `--jobs 1`, `--jobs N` and the queue workers.
        """
        return average_proba(self.networks, glyphs)


def average_proba(networks: list[MLP], glyphs: NDArray[np.floating]) -> NDArray[np.float32]:
    """Mean of the networks' probabilities for (N, 32, 32) glyphs, on one BLAS thread (see
    :meth:`Recognizer.predict_proba`); what a model is evaluated with before it has a
    manifest. Always (N, 37): a 36-output network (from before the "not a character" class)
    gets a zero column there."""
    x = np.asarray(glyphs, dtype=np.float32).reshape(len(glyphs), -1)
    with blas_controller().limit(limits=1, user_api="blas"):
        probs = networks[0].predict_proba(x)
        for net in networks[1:]:
            probs += net.predict_proba(x)
    if len(networks) > 1:
        probs /= len(networks)
    if probs.shape[1] < NUM_OUTPUTS:
        probs = np.pad(probs, ((0, 0), (0, NUM_OUTPUTS - probs.shape[1])))
    return probs


def weights_bytes(networks: list[MLP]) -> bytes:
    """Serialize every network's arrays into one .npz (member k's arrays prefixed m{k}_)."""
    arrays: dict[str, NDArray[np.floating]] = {}
    for k, net in enumerate(networks):
        for name, value in net.state().items():
            arrays[f"m{k}_{name}"] = value
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def save_model(out_dir: Path, networks: list[MLP], manifest: ModelManifest) -> ModelManifest:
    """Write weights and a manifest carrying their sha256; return the final manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = weights_bytes(networks)
    (out_dir / WEIGHTS_FILE).write_bytes(data)
    final = manifest.model_copy(update={"model_sha256": sha256_bytes(data)})
    (out_dir / MANIFEST_FILE).write_text(final.model_dump_json(indent=2) + "\n")
    return final


def read_manifest(model_dir: Path) -> ModelManifest:
    path = model_dir / MANIFEST_FILE
    if not path.is_file():
        raise ModelError(f"{model_dir}: no {MANIFEST_FILE}")
    try:
        return ModelManifest.model_validate_json(path.read_text())
    except ValueError as e:
        raise ModelError(f"{path}: not a valid model manifest: {e}") from e


def load_model(model_dir: Path | str = DEFAULT_MODEL_DIR) -> Recognizer:
    """Load and verify a model directory; raise ModelError with the reason otherwise."""
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    weights = model_dir / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelError(f"{model_dir}: no {WEIGHTS_FILE}")
    data = weights.read_bytes()
    return recognizer_from_bytes(data, manifest, source=str(weights))


def recognizer_from_bytes(data: bytes, manifest: ModelManifest, source: str) -> Recognizer:
    """Build a Recognizer from verified weight bytes (shared by disk and S3 loading)."""
    digest = sha256_bytes(data)
    if digest != manifest.model_sha256:
        raise ModelError(
            f"{source}: sha256 {digest[:12]}... does not match the manifest's "
            f"{manifest.model_sha256[:12]}...; refusing to load"
        )
    if manifest.classes not in (CLASSES, OUTPUTS):
        raise ModelError(
            f"{source}: classes {manifest.classes!r} are neither {CLASSES!r} nor {OUTPUTS!r}"
        )
    if manifest.architecture.n_out != len(manifest.classes):
        raise ModelError(
            f"{source}: {manifest.architecture.n_out} outputs for {len(manifest.classes)} classes"
        )
    if manifest.normalization.id != NORMALIZATION_ID:
        raise ModelError(
            f"{source}: trained with normalization {manifest.normalization.id!r}, "
            f"this build uses {NORMALIZATION_ID!r}"
        )
    spec = manifest.architecture
    arch = Architecture(
        n_in=spec.n_in,
        hidden=tuple(spec.hidden),
        n_out=spec.n_out,
        activation=spec.activation,
        dropout=spec.dropout,
    )
    networks = []
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        for k in range(spec.members):
            net = MLP(arch)
            prefix = f"m{k}_"
            try:
                net.load_state({n[len(prefix) :]: z[n] for n in z.files if n.startswith(prefix)})
            except (KeyError, ValueError) as e:
                raise ModelError(f"{source}: weights do not fit the architecture: {e}") from e
            networks.append(net)
    return Recognizer(networks=networks, manifest=manifest)


def manifest_json(manifest: ModelManifest) -> dict[str, object]:
    return json.loads(manifest.model_dump_json())
