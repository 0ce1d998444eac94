"""Retraining: labelled data from S3 -> ocr.training.recipe.run -> gate -> publish (-> promote).

Why a gate: a retrain runs unattended (beat) on whatever users put in the bucket; a bad batch
of corrected crops or an unlucky run must not silently replace a good model. The candidate
and the model workers currently use are measured on the SAME gate set, and the pointer moves
only when the candidate is not worse by more than ``promotion_margin``. The candidate is
published either way, with the decision and both accuracies in its manifest, so a human can
inspect it and promote it by hand.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from ocr.model.store import DEFAULT_MODEL_DIR, Recognizer, load_model
from ocr.training.datasets import Dataset, load, parse_spec
from ocr.training.evaluate import evaluate_predictions
from ocr.training.recipe import Recipe, run
from ocr.training.split import split
from schemas.manifest import Promotion
from schemas.tasks import Hyperparameters, RetrainRequest, RetrainResult
from worker.registry import Registry
from worker.storage import Storage, parse_s3_uri

log = logging.getLogger(__name__)

EMNIST_META_SUFFIX = ".json"
"""An EMNIST mosaic needs its ``{split}.json`` from the same folder."""


class RetrainError(Exception):
    """A retrain request that cannot be carried out (missing data, bad spec)."""


def recipe_from(h: Hyperparameters) -> Recipe:
    """The default recipe with the request's overrides (None keeps the default)."""
    return Recipe().with_overrides(**h.model_dump())


def _safe_rel(rel: str) -> PurePosixPath:
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts:
        raise RetrainError(f"refusing object name {rel!r} (leaves the download folder)")
    return p


def fetch_dataset(storage: Storage, spec: str, dest: Path) -> str:
    """``KIND:s3://B/K`` -> ``KIND:local path``: K is one file, or a prefix (a folder of
    labelled crops ``LABEL/*.png``, a folder of EMNIST mosaics). Local specs pass through."""
    kind, _, location = spec.partition(":")
    parse_spec(f"{kind}:x")  # checks KIND
    if not location.startswith("s3://"):
        return spec
    loc = parse_s3_uri(location)
    key = loc.key.rstrip("/")
    objects = list(storage.list_objects(loc.bucket, key))
    dest.mkdir(parents=True, exist_ok=True)
    single = [o for o in objects if o.key == key]
    if single and not loc.key.endswith("/"):
        name = PurePosixPath(key).name
        (dest / name).write_bytes(storage.download(loc.bucket, key).data)
        if kind == "emnist":  # the split's label file lives beside the mosaic
            parent = str(PurePosixPath(key).parent)
            for o in storage.list_objects(loc.bucket, parent + "/"):
                rest = o.key[len(parent) + 1 :]
                if "/" not in rest and rest.endswith(EMNIST_META_SUFFIX):
                    (dest / rest).write_bytes(storage.download(loc.bucket, o.key).data)
        return f"{kind}:{dest / name}"
    base = key + "/" if key else ""
    under = [o for o in objects if o.key.startswith(base) and not o.key.endswith("/")]
    if not under:
        raise RetrainError(f"{spec}: no objects at s3://{loc.bucket}/{loc.key}")
    root = dest / (PurePosixPath(key).name or "data")
    for o in under:
        target = root / _safe_rel(o.key[len(base) :])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(storage.download(loc.bucket, o.key).data)
    return f"{kind}:{root}"


def gate_set(specs: list[str], split_seed: int, test_split: bool) -> Dataset:
    """The data both models are judged on: the held-out test part of each training spec (the
    candidate never saw it), or explicit gate specs whole."""
    parts = []
    for spec in specs:
        ds = load(spec)
        parts.append(split(ds, seed=split_seed)[2] if test_split else ds)
    gate = Dataset.concat(parts, "gate")
    if len(gate) == 0:
        raise RetrainError(f"the gate set from {specs} is empty")
    return gate


def accuracy(rec: Recognizer, data: Dataset) -> float:
    return float(evaluate_predictions(data.labels, rec.predict_proba(data.images)).accuracy)


def decide(candidate: float, current: float | None, margin: float, gate_name: str) -> Promotion:
    if current is None:
        promoted, reason = True, "no current model to compare with"
    elif candidate >= current - margin:
        promoted = True
        reason = f"candidate {candidate:.4f} >= current {current:.4f} - margin {margin:.4f}"
    else:
        promoted = False
        reason = f"candidate {candidate:.4f} < current {current:.4f} - margin {margin:.4f}"
    return Promotion(
        promoted=promoted,
        reason=reason,
        gate_set=gate_name,
        candidate_accuracy=candidate,
        current_accuracy=current,
        margin=margin,
    )


def retrain(
    storage: Storage,
    registry: Registry,
    req: RetrainRequest,
    margin: float,
    default_gate: list[str],
    version: str,
    log_line: Callable[[str], None] = log.info,
) -> RetrainResult:
    """Train a candidate, gate it against the current model, publish, maybe promote."""
    recipe = recipe_from(req.hyperparameters)
    with tempfile.TemporaryDirectory(prefix="scanscribe-retrain-") as tmp:
        root = Path(tmp)
        specs = [fetch_dataset(storage, s, root / f"data{i}") for i, s in enumerate(req.datasets)]
        gate_specs = req.gate or default_gate
        local_gate = [
            fetch_dataset(storage, s, root / f"gate{i}") for i, s in enumerate(gate_specs)
        ]
        out = root / "model"
        result = run(specs, out, recipe, name=req.name, version=version, log=log_line)
        gate = gate_set(local_gate or specs, recipe.split_seed, test_split=not local_gate)
        gate_name = (
            "+".join(gate_specs) if gate_specs else "test split of " + "+".join(req.datasets)
        )
        pointer = registry.current()
        current: Recognizer | None
        if pointer is not None:
            current = registry.load(pointer.version, expected_sha256=pointer.model_sha256)
        elif DEFAULT_MODEL_DIR.is_dir():
            current = load_model(DEFAULT_MODEL_DIR)  # what workers use without a registry
        else:
            current = None
        cand_acc = accuracy(result.recognizer, gate)
        cur_acc = accuracy(current, gate) if current is not None else None
        promotion = decide(cand_acc, cur_acc, margin, f"{gate_name} ({len(gate)} samples)")
        log_line(f"gate: {promotion.reason}")
        registry.publish(out, version=version, promotion=promotion)
    if promotion.promoted:
        pointer = registry.set_current(version, f"retrain: {promotion.reason}")
    return RetrainResult(
        version=version,
        model_uri=registry.uri(version) + "/",
        promotion=promotion,
        current_version=pointer.version if pointer is not None else None,
    )


def new_version(task_id: str) -> str:
    """UTC time plus a piece of the task id: sortable and unique across concurrent runs."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + "-" + task_id.replace("-", "")[:6]
