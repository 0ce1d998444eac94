"""Write (or ``--check``) the JSON Schema files under ``schemas/json/``.

The schema files are committed so consumers in other languages can validate our output
without Python; ``--check`` (and tests/test_schemas.py) keep them from drifting from the models.

    python -m schemas.generate          # rewrite stale files
    python -m schemas.generate --check  # exit 1 naming stale files, write nothing
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import BaseModel

from schemas.manifest import ModelManifest
from schemas.page import PageError, PageResult
from schemas.review import ReviewRecord
from schemas.tasks import (
    BatchStarted,
    BatchSummary,
    FileOutcome,
    ModelPointer,
    RetrainRequest,
    RetrainResult,
    TranscribePageRequest,
    TranscribePrefixRequest,
)

SCHEMA_DIR = Path(__file__).parent / "json"
MODELS: tuple[type[BaseModel], ...] = (
    PageResult,
    PageError,
    ModelManifest,
    TranscribePageRequest,
    TranscribePrefixRequest,
    FileOutcome,
    BatchStarted,
    BatchSummary,
    RetrainRequest,
    RetrainResult,
    ModelPointer,
    ReviewRecord,
)


def schema_text(model: type[BaseModel]) -> str:
    """The exact file content for one model: sorted keys so diffs are stable."""
    return json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"


def expected_files(schema_dir: Path = SCHEMA_DIR) -> dict[Path, str]:
    return {schema_dir / f"{m.__name__}.schema.json": schema_text(m) for m in MODELS}


def stale_files(schema_dir: Path = SCHEMA_DIR) -> list[Path]:
    """Files that are missing or differ from what the models generate now."""
    stale = []
    for path, text in expected_files(schema_dir).items():
        if not path.is_file() or path.read_text() != text:
            stale.append(path)
    return stale


def write_files(schema_dir: Path = SCHEMA_DIR) -> list[Path]:
    """Rewrite only the stale files; return them."""
    schema_dir.mkdir(parents=True, exist_ok=True)
    expected = expected_files(schema_dir)
    stale = stale_files(schema_dir)
    for path in stale:
        path.write_text(expected[path])
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if any file is stale")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="output directory")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.dir)
        for path in stale:
            print(f"stale: {path} (run `python -m schemas.generate`)", file=sys.stderr)
        return 1 if stale else 0
    for path in write_files(args.dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
