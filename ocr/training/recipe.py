"""A whole training run: data specs -> splits -> networks -> evaluated model directory.

This is what ``scanscribe train`` and the retraining task both call, so a model trained by
hand and one trained by the worker are made the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ocr.model.classes import CLASSES, OUTPUTS
from ocr.model.mlp import MLP, Architecture
from ocr.model.store import (
    Recognizer,
    architecture_spec,
    average_proba,
    current_normalization,
    save_model,
)
from ocr.training.datasets import Dataset, load, parse_spec
from ocr.training.datasets.chars74k import RenderVariety, read_strokes, render_variants
from ocr.training.evaluate import Evaluation, evaluate_predictions
from ocr.training.negatives import negatives_dataset
from ocr.training.split import split
from ocr.training.train import History, TrainConfig, train
from schemas.manifest import (
    ConfusionPair,
    DataSource,
    EpochMetrics,
    ModelManifest,
    SplitMetrics,
)

Progress = Callable[[str], None]

NEGATIVES_KEY: str = "negatives"
"""Metrics key of the generated "not a character" crops (``valid/negatives``: the share
rejected)."""

DEFAULT_DROPOUT: float = 0.15
"""Chosen by measurement (see README, "How the shipped model was trained")."""


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a model besides the data."""

    arch: Architecture = field(default_factory=lambda: Architecture(dropout=DEFAULT_DROPOUT))
    train: TrainConfig = field(default_factory=TrainConfig)
    members: int = 1
    stroke_copies: int = 12
    """Renderings of every training stroke glyph (random pen, blur, slant, rotation)."""
    variety: RenderVariety = field(default_factory=RenderVariety)
    split_seed: int = 0
    negative_share: float = 0.1
    """Generated "not a character" crops (ocr.training.negatives) added to each split, as a
    share of that split's glyphs: about three classes' worth, enough for the 37th output to
    learn clutter without taking capacity from the characters (measured: README)."""

    def with_overrides(self, *, augment: bool = True, **values: Any) -> Recipe:
        """This recipe with a user's settings applied: the one way both ``scanscribe train``
        and the retrain task turn options into a recipe. A value of None keeps this recipe's
        own; ``augment=False`` trains on the data as it is; an unknown name is a TypeError."""
        given = {k: v for k, v in values.items() if v is not None}
        unknown = set(given) - set(ARCH_OVERRIDES) - set(TRAIN_OVERRIDES) - set(RECIPE_OVERRIDES)
        if unknown:
            raise TypeError(f"unknown recipe settings: {', '.join(sorted(unknown))}")
        if "hidden" in given:
            given["hidden"] = tuple(given["hidden"])
        train_changes = {k: given[k] for k in TRAIN_OVERRIDES if k in given}
        if not augment:
            train_changes["augment"] = None
        return replace(
            self,
            arch=replace(self.arch, **{k: given[k] for k in ARCH_OVERRIDES if k in given}),
            train=replace(self.train, **train_changes),
            **{k: given[k] for k in RECIPE_OVERRIDES if k in given},
        )


ARCH_OVERRIDES = ("hidden", "activation", "dropout")
"""Settings that go to :class:`ocr.model.mlp.Architecture`."""
TRAIN_OVERRIDES = (
    "epochs",
    "batch_size",
    "optimizer",
    "lr",
    "momentum",
    "weight_decay",
    "schedule",
    "patience",
    "seed",
)
"""Settings that go to :class:`ocr.training.train.TrainConfig`."""
RECIPE_OVERRIDES = ("members", "stroke_copies", "negative_share")
"""Settings of the recipe itself."""


@dataclass
class PreparedData:
    train: Dataset
    valid: Dataset
    test: Dataset
    by_source: dict[str, tuple[Dataset, Dataset, Dataset]]
    sources: list[DataSource]


def prepare(specs: list[str], recipe: Recipe, log: Progress = print) -> PreparedData:
    """Load every spec, split each (by writer where known), render stroke data variants."""
    trains, valids, tests = [], [], []
    by_source: dict[str, tuple[Dataset, Dataset, Dataset]] = {}
    sources = []
    rng = np.random.default_rng(recipe.split_seed + 1)
    for spec in specs:
        kind, path = parse_spec(spec)
        ds = load(spec)
        tr, va, te = split(ds, seed=recipe.split_seed)
        log(f"  {spec}: {len(ds)} samples -> train {len(tr)} / valid {len(va)} / test {len(te)}")
        key = f"{kind}:{path.name}"
        by_source[key] = (tr, va, te)
        sources.append(DataSource(spec=spec, kind=kind, samples=len(ds), files_sha256=ds.sha256))
        if kind == "chars74k" and recipe.stroke_copies > 0:
            writers = set(tr.groups.tolist())
            glyphs = [g for g in read_strokes(path) if g.writer in writers]
            images, labels, groups = render_variants(
                glyphs, recipe.stroke_copies, rng, recipe.variety
            )
            tr = Dataset(f"{key}/train-rendered", images, labels, groups, dict(ds.sha256))
            log(f"  {spec}: {len(tr)} training renderings of {len(glyphs)} glyphs")
        trains.append(tr)
        valids.append(va)
        tests.append(te)
    train, valid, test = (
        Dataset.concat(parts, name)
        for parts, name in ((trains, "train"), (valids, "valid"), (tests, "test"))
    )
    if recipe.negative_share > 0:
        # Each split's negatives are cut from that split's own glyphs (fragments, fusions),
        # so held-out writers stay held out.
        neg_tr, neg_va, neg_te = (
            negatives_dataset(
                max(1, round(recipe.negative_share * len(ds))),
                recipe.split_seed + 100 + i,
                ds.images[ds.labels < len(CLASSES)],
                f"negatives/{name}",
            )
            for i, (ds, name) in enumerate(((train, "train"), (valid, "valid"), (test, "test")))
        )
        negs = (neg_tr, neg_va, neg_te)
        log(f"  negatives: train {len(neg_tr)} / valid {len(neg_va)} / test {len(neg_te)}")
        by_source[NEGATIVES_KEY] = negs
        splits = zip((train, valid, test), negs, strict=True)
        train, valid, test = (Dataset.concat([ds, neg], ds.name) for ds, neg in splits)
    return PreparedData(train=train, valid=valid, test=test, by_source=by_source, sources=sources)


def metrics(ev: Evaluation) -> SplitMetrics:
    return SplitMetrics(
        samples=ev.samples, accuracy=ev.accuracy, accuracy_merged=ev.accuracy_merged
    )


@dataclass
class RunResult:
    recognizer: Recognizer
    histories: list[History]
    evaluations: dict[str, Evaluation]


def run(
    specs: list[str],
    out_dir: Path,
    recipe: Recipe,
    name: str = "scanscribe-mlp",
    version: str | None = None,
    command: str | None = None,
    log: Progress = print,
    on_epoch: Callable[[int, EpochMetrics], None] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Train ``recipe.members`` networks on ``specs`` and write a model directory."""
    start = time.perf_counter()
    log(f"loading {len(specs)} dataset(s)")
    data = prepare(specs, recipe, log)
    networks, histories = [], []
    first_layer_before = None
    for k in range(recipe.members):
        net = MLP(recipe.arch, seed=recipe.train.seed + k)
        if first_layer_before is None:
            first_layer_before = net.dense_layers()[0].params["W"].copy()
        cfg = TrainConfig(**{**recipe.train.__dict__, "seed": recipe.train.seed + k})
        log(f"training network {k + 1}/{recipe.members}: {recipe.arch}")
        cb = (lambda rec, k=k: on_epoch(k, rec)) if on_epoch else None
        histories.append(train(net, data.train, data.valid, cfg, on_epoch=cb, on_batch=on_batch))
        networks.append(net)
    evaluations = evaluate_all(networks, data)
    hist = histories[0].epochs
    version = version or datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    manifest = ModelManifest(
        name=name,
        version=version,
        created_at=datetime.now(UTC),
        classes=OUTPUTS if recipe.arch.n_out == len(OUTPUTS) else CLASSES,
        architecture=architecture_spec(recipe.arch, recipe.members),
        normalization=current_normalization(),
        hyperparameters={
            **recipe.train.to_dict(),
            "members": recipe.members,
            "stroke_copies": recipe.stroke_copies,
            "render_variety": recipe.variety.__dict__,
            "split_seed": recipe.split_seed,
            "negative_share": recipe.negative_share,
        },
        training_data=data.sources,
        metrics={k: metrics(v) for k, v in evaluations.items()},
        confusions=[
            ConfusionPair(true=c.true, predicted=c.predicted, count=c.count, rate=c.rate)
            for c in evaluations["valid"].top_confusions
        ],
        history=list(hist),
        training_seconds=round(time.perf_counter() - start, 1),
        command=command,
        model_sha256="0" * 64,
    )
    manifest = save_model(out_dir, networks, manifest)
    from ocr.training.report import write_report  # matplotlib: only when a report is written

    assert first_layer_before is not None
    write_report(
        out_dir,
        manifest,
        first_layer_before,
        networks[0].dense_layers()[0].params["W"],
        evaluations["valid"],
    )
    return RunResult(Recognizer(networks, manifest), histories, evaluations)


def evaluate_all(networks: list[MLP], data: PreparedData) -> dict[str, Evaluation]:
    """Evaluate on each whole split's glyphs and on each source's valid and test parts."""
    out = {}
    for split_name, ds in (("valid", data.valid), ("test", data.test)):
        # Whole-split figures are on real glyphs only, comparable with models trained before
        # the 37th class; the negatives have their own entries (valid/negatives).
        glyphs = ds.subset(np.flatnonzero(ds.labels < len(CLASSES)))
        probs = average_proba(networks, glyphs.images)
        out[split_name] = evaluate_predictions(glyphs.labels, probs)
    for key, (_, va, te) in data.by_source.items():
        for split_name, ds in (("valid", va), ("test", te)):
            if len(ds):
                out[f"{split_name}/{key}"] = evaluate_predictions(
                    ds.labels, average_proba(networks, ds.images)
                )
    return out
