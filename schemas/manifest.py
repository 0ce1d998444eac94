"""The model manifest: everything needed to trust and reproduce a set of weights."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_SCHEMA_VERSION = 1


class ArchitectureSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["mlp"] = "mlp"
    n_in: int = Field(gt=0)
    hidden: list[int]
    n_out: int = Field(gt=0)
    activation: Literal["relu", "tanh", "sigmoid"]
    dropout: float = Field(ge=0.0, lt=1.0)
    members: int = Field(default=1, ge=1, description="networks averaged (an ensemble)")


class NormalizationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="ocr.stages.normalize.NORMALIZATION_ID the model was trained with")
    size: int
    glyph_box: int
    ink_fraction: float
    polarity: Literal["ink=1"] = "ink=1"


class DataSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spec: str = Field(description="KIND:PATH as given to `scanscribe train`")
    kind: str
    samples: int
    files_sha256: dict[str, str]


class SplitMetrics(BaseModel):
    model_config = ConfigDict(extra="forbid")

    samples: int
    accuracy: float
    accuracy_merged: float = Field(description="accuracy with O=0 and I=1 counted as one reading")


class ConfusionPair(BaseModel):
    model_config = ConfigDict(extra="forbid")

    true: str
    predicted: str
    count: int
    rate: float = Field(description="count / samples of the true class")


class EpochMetrics(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epoch: int
    train_loss: float
    train_acc: float
    valid_loss: float
    valid_acc: float
    lr: float
    seconds: float


class Promotion(BaseModel):
    """Why a retrained candidate was or was not made the current model."""

    model_config = ConfigDict(extra="forbid")

    promoted: bool
    reason: str
    gate_set: str
    candidate_accuracy: float
    current_accuracy: float | None = None
    margin: float


class ModelManifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = MANIFEST_SCHEMA_VERSION
    name: str
    version: str
    created_at: datetime
    classes: str = Field(description="class index -> character")
    architecture: ArchitectureSpec
    normalization: NormalizationSpec
    hyperparameters: dict[str, object]
    training_data: list[DataSource]
    metrics: dict[str, SplitMetrics] = Field(
        description="per split and per dataset, e.g. 'test/emnist'"
    )
    confusions: list[ConfusionPair] = Field(description="top confusions measured on validation")
    history: list[EpochMetrics] = Field(default_factory=list)
    training_seconds: float | None = None
    command: str | None = Field(default=None, description="the command that trained it")
    model_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    promotion: Promotion | None = None
