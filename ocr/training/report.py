"""Pictures and a model card for a trained model: what people look at, not read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from ocr.model.classes import OUTPUTS
from ocr.stages.normalize import SIZE
from ocr.training.evaluate import Evaluation
from schemas.manifest import ModelManifest


def learning_curves(manifest: ModelManifest, path: Path) -> None:
    h = manifest.history
    epochs = [r.epoch for r in h]
    fig = Figure(figsize=(10, 3.8))
    a, b = fig.subplots(1, 2)
    a.plot(epochs, [r.train_loss for r in h], "o-", label="train")
    a.plot(epochs, [r.valid_loss for r in h], "s-", label="valid")
    a.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    b.plot(epochs, [100 * r.train_acc for r in h], "o-", label="train (augmented)")
    b.plot(epochs, [100 * r.valid_acc for r in h], "s-", label="valid")
    b.set(xlabel="epoch", ylabel="accuracy %", title="accuracy")
    for ax in (a, b):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{manifest.name} {manifest.version}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def weight_grid(w: NDArray[np.floating], path: Path, title: str, count: int = 64) -> None:
    """First-layer weights of ``count`` hidden units as 32x32 tiles."""
    n = min(count, w.shape[1])
    side = int(np.ceil(np.sqrt(n)))
    fig = Figure(figsize=(side * 0.9, side * 0.9))
    axes = fig.subplots(side, side)
    for i, ax in enumerate(np.asarray(axes).ravel()):
        ax.axis("off")
        if i < n:
            tile = w[:, i].reshape(SIZE, SIZE)
            lim = float(np.abs(tile).max()) or 1.0
            ax.imshow(tile, cmap="RdBu_r", vmin=-lim, vmax=lim)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def confusion_plot(ev: Evaluation, path: Path, title: str) -> None:
    m = ev.matrix.astype(np.float64)
    rates = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(9, 8))
    ax = fig.subplots()
    im = ax.imshow(np.sqrt(rates), cmap="viridis")
    ax.set_xticks(range(len(OUTPUTS)), list(OUTPUTS))
    ax.set_yticks(range(len(OUTPUTS)), list(OUTPUTS))
    ax.set(xlabel="predicted", ylabel="true", title=f"{title} (colour: sqrt of row rate)")
    for t, p in zip(*np.nonzero(m), strict=True):
        if t != p and m[t, p] > 0 and rates[t, p] >= 0.02:
            ax.text(p, t, str(int(m[t, p])), ha="center", va="center", color="w", fontsize=6)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def model_card(manifest: ModelManifest) -> str:
    a = manifest.architecture
    lines = [
        f"# Model card: {manifest.name} {manifest.version}",
        "",
        "Recognizer for isolated handwritten block capitals and digits (classes "
        f'`{manifest.classes}`; `~`, where present, is "not a character": clutter the page '
        "pipeline drops), a NumPy MLP written for scanscribe.",
        "",
        "## How it was made",
        "",
        f"- Command: `{manifest.command or 'not recorded'}`",
        f"- Architecture: {a.n_in}-{'-'.join(map(str, a.hidden))}-{a.n_out}, {a.activation}, "
        f"dropout {a.dropout}, {a.members} network(s) averaged",
        f"- Input: normalization `{manifest.normalization.id}` (ink = 1, 32x32)",
        f"- Training time: {manifest.training_seconds} s on the machine that trained it",
        f"- Created: {manifest.created_at.isoformat()}",
        "",
        "Hyperparameters:",
        "",
        "```",
        *(f"{k}: {v}" for k, v in manifest.hyperparameters.items()),
        "```",
        "",
        "## Data",
        "",
        "| spec | samples | files (sha256) |",
        "|---|---|---|",
        *(
            f"| `{s.spec}` | {s.samples} | "
            + ", ".join(f"{k} `{v[:12]}`" for k, v in sorted(s.files_sha256.items())[:4])
            + (" ..." if len(s.files_sha256) > 4 else "")
            + " |"
            for s in manifest.training_data
        ),
        "",
        "Splits are deterministic: writers are kept apart where the source knows them "
        "(Chars74K), so test writers are unseen; EMNIST is split by a seeded permutation.",
        "",
        "## Metrics (measured at training time)",
        "",
        "| split | samples | accuracy | accuracy, O=0 and I=1 merged |",
        "|---|---|---|---|",
        *(
            f"| {k} | {m.samples} | {100 * m.accuracy:.2f}% | {100 * m.accuracy_merged:.2f}% |"
            for k, m in manifest.metrics.items()
        ),
        "",
        "Top confusions on validation (true -> predicted):",
        "",
        *(
            f"- {c.true} -> {c.predicted}: {c.count} ({100 * c.rate:.1f}% of {c.true})"
            for c in manifest.confusions
        ),
        "",
        "## Limits",
        "",
        "- Isolated shapes cannot tell O from 0 or I from 1; the page recognizer uses word "
        "context and flags these characters instead of trusting the class.",
        "- Trained on EMNIST (NIST SD19 writers, many of them US census forms) and 26 Chars74K "
        "tablet writers; cursive capitals and unusual letter forms are weak.",
        '- `~` ("not a character", where present) is learnt from generated negatives '
        "(ocr/training/negatives.py: texture patches, glyph fragments, two glyphs fused, blobs, "
        "rule and grid pieces, box corners, scribbles), not from real clutter; the "
        "`negatives` rows above say how much of it is rejected. Shapes that are letters "
        "(a drawn circle is an O) cannot be told apart.",
        "",
        "## Sources",
        "",
        "- Cohen, Afshar, Tapson, van Schaik (2017), *EMNIST: an extension of MNIST to "
        "handwritten letters*, derived from NIST Special Database 19.",
        "- de Campos, Babu, Varma (2009), *Character recognition in natural images*, VISAPP "
        "(Chars74K EnglishHnd, research use).",
        "",
        "Pictures: `learning_curves.png`, `weights_before.png`, `weights_after.png`, "
        "`confusion_valid.png`.",
    ]
    return "\n".join(lines) + "\n"


def write_report(
    out_dir: Path,
    manifest: ModelManifest,
    first_layer_before: NDArray[np.floating],
    first_layer_after: NDArray[np.floating],
    valid: Evaluation,
) -> Path:
    report = out_dir / "report"
    report.mkdir(parents=True, exist_ok=True)
    learning_curves(manifest, report / "learning_curves.png")
    weight_grid(first_layer_before, report / "weights_before.png", "first layer, initial")
    weight_grid(first_layer_after, report / "weights_after.png", "first layer, trained")
    confusion_plot(valid, report / "confusion_valid.png", "validation confusion")
    (report / "MODEL_CARD.md").write_text(model_card(manifest))
    return report
