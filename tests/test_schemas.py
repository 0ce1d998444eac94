"""The page result models and their committed JSON Schema files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.generate import SCHEMA_DIR, expected_files, main, stale_files
from schemas.page import PageError, PageResult

SHA = "ab" * 32


def page_dict() -> dict[str, Any]:
    """One line "A0 B" with one flagged character, as plain JSON-able data."""
    char_a = {
        "text": "A",
        "box": [10, 10, 30, 40],
        "confidence": 0.97,
        "alternatives": [{"char": "A", "prob": 0.97}, {"char": "4", "prob": 0.02}],
    }
    char_0 = {
        "text": "O",
        "box": [32, 10, 52, 40],
        "confidence": 0.55,
        "alternatives": [{"char": "O", "prob": 0.55}, {"char": "0", "prob": 0.44}],
        "flag": {
            "readings": ["0", "O"],
            "probs": [0.44, 0.55],
            "reason": "context",
            "rule": "digit-in-word->letter",
            "original": "0",
        },
    }
    char_b = {
        "text": "B",
        "box": [70, 10, 90, 40],
        "confidence": 0.9,
        "alternatives": [{"char": "B", "prob": 0.9}],
    }
    return {
        "source": {
            "path_or_uri": "s3://bucket/page.jpg",
            "sha256": SHA,
            "width": 100,
            "height": 50,
            "page_index": 0,
            "page_count": 1,
        },
        "model": {"name": "default", "version": "1.0", "sha256": SHA},
        "text": "AO B",
        "lines": [
            {
                "text": "AO B",
                "box": [10, 10, 90, 40],
                "words": [
                    {"text": "AO", "box": [10, 10, 52, 40], "characters": [char_a, char_0]},
                    {"text": "B", "box": [70, 10, 90, 40], "characters": [char_b]},
                ],
            }
        ],
        "stats": {"characters": 3, "mean_confidence": 0.81, "flagged": 1, "lines": 1, "words": 2},
        "timings_ms": {"decode": 12.5, "recognize": 3.0},
        "created_at": "2024-05-01T12:00:00Z",
    }


def test_schema_files_are_up_to_date() -> None:
    stale = stale_files(SCHEMA_DIR)
    assert not stale, f"stale schema files {stale}: run `python -m schemas.generate`"
    for path, text in expected_files(SCHEMA_DIR).items():
        assert path.read_text() == text


def test_check_mode_names_stale_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", "--dir", str(tmp_path)]) == 1
    assert "PageResult.schema.json" in capsys.readouterr().err
    assert main(["--dir", str(tmp_path)]) == 0
    assert main(["--check", "--dir", str(tmp_path)]) == 0
    (tmp_path / "PageError.schema.json").write_text("{}\n")
    assert main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "PageError.schema.json" in err and "PageResult.schema.json" not in err


def test_page_result_round_trips_through_json() -> None:
    result = PageResult.model_validate(page_dict())
    assert result.kind == "page" and result.schema_version == 1
    again = PageResult.model_validate_json(result.model_dump_json())
    assert again == result
    assert again.lines[0].words[0].characters[1].flag is not None


def test_page_error_round_trips() -> None:
    err = PageError(
        source="scan.jpg",
        page_index=None,
        error_type="empty-file",
        message="scan.jpg: the file is empty (0 bytes)",
        created_at=datetime(2024, 5, 1, tzinfo=UTC),
    )
    assert PageError.model_validate_json(err.model_dump_json()) == err
    assert json.loads(err.model_dump_json())["kind"] == "error"


def _with(path: list[str | int], value: Any) -> dict[str, Any]:
    data = page_dict()
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


CHAR0: list[str | int] = ["lines", 0, "words", 0, "characters", 0]


@pytest.mark.parametrize(
    "path, value",
    [
        (CHAR0 + ["box"], [30, 10, 10, 40]),  # x0 > x1
        (CHAR0 + ["box"], [10, 40, 30, 10]),  # y0 > y1
        (CHAR0 + ["box"], [10, 10, 30]),  # three numbers
        (CHAR0 + ["box"], [-1, 10, 30, 40]),  # negative
        (CHAR0 + ["confidence"], 1.2),
        (CHAR0 + ["confidence"], -0.1),
        (CHAR0 + ["text"], "AB"),
        (CHAR0 + ["text"], "a"),
        (CHAR0 + ["bogus"], 1),  # unknown field on a nested model
        (["bogus"], 1),  # unknown field at the top
        (["kind"], "error"),
        (["source", "sha256"], "not-a-hash"),
    ],
)
def test_invalid_documents_are_rejected(path: list[str | int], value: Any) -> None:
    with pytest.raises(ValidationError):
        PageResult.model_validate(_with(path, value))


def test_degenerate_box_is_allowed() -> None:
    """x0 == x1 is an empty box, not an error (x1 is exclusive)."""
    PageResult.model_validate(_with(CHAR0 + ["box"], [10, 10, 10, 10]))
