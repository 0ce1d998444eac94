"""What ``scanscribe review`` writes beside a page result: ``<stem>.review.json``.

Why a separate document: the record is the reviewers' log (every decision, who, when, what
the model had read), written with a conditional write so that two reviewers cannot overwrite
each other; the page's ``.json`` and ``.txt`` are derived from it. Decisions are appended,
never rewritten: a later decision on the same character supersedes an earlier one, and the
earlier one stays in the log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

from schemas.page import (
    CHARACTER_PATTERN,
    SHA256_PATTERN,
    Alternative,
    Box,
    ModelInfo,
    Probability,
    ReviewStatus,
)

REVIEW_SCHEMA_VERSION = 1

REVIEWER_PATTERN = r"^[A-Za-z0-9._@+-]{1,64}$"
"""A reviewer name: short and plain, so it is safe in logs, file names and HTML."""


class CharacterRef(BaseModel):
    """Where a character sits in its PageResult: indices into lines, words, characters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line: NonNegativeInt
    word: NonNegativeInt
    char: NonNegativeInt


class ReviewDecision(BaseModel):
    """One decision on one character."""

    model_config = ConfigDict(extra="forbid")

    ref: CharacterRef
    box: Box
    model_text: str = Field(pattern=CHARACTER_PATTERN, description="the model's reading")
    model_confidence: Probability
    alternatives: list[Alternative] = Field(max_length=3, description="the model's top-3")
    flagged: bool = Field(description="the model flagged it as a classic confusion")
    status: ReviewStatus
    text: str | None = Field(
        default=None,
        pattern=CHARACTER_PATTERN,
        description="the decided character; None for not-a-character",
    )
    reviewer: str = Field(pattern=REVIEWER_PATTERN)
    at: datetime
    crop: str | None = Field(
        default=None, description="the labelled crop written for training (path or s3:// URI)"
    )


class ReviewRecord(BaseModel):
    """Every decision on one page, oldest first."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = REVIEW_SCHEMA_VERSION
    kind: Literal["review"] = "review"
    result: str = Field(description="the reviewed PageResult's key, relative to SOURCE")
    source: str = Field(description="the page image's path or URI, as in the result")
    source_sha256: str = Field(pattern=SHA256_PATTERN)
    page_index: NonNegativeInt
    model: ModelInfo
    revision: NonNegativeInt = Field(description="number of decisions so far; grows by one each")
    decisions: list[ReviewDecision]
    updated_at: datetime

    def latest(self) -> dict[CharacterRef, ReviewDecision]:
        """The decision in force for each decided character."""
        return {d.ref: d for d in self.decisions}
