"""The package rules that the ``__init__`` docstrings of ``ocr/`` state, checked on the source:
which parts of the engine each package may import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

OCR = Path(__file__).resolve().parents[1] / "ocr"

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "io": ("ocr.stages", "ocr.model", "ocr.training", "ocr.synth", "ocr.pipeline", "ocr.batch"),
    "stages": ("ocr.io", "ocr.training", "ocr.synth", "ocr.pipeline", "ocr.batch", "ocr.cli"),
    "model": ("ocr.io", "ocr.training", "ocr.synth", "ocr.pipeline", "ocr.batch", "ocr.cli"),
    "training": ("ocr.io", "ocr.synth", "ocr.pipeline", "ocr.batch", "ocr.cli"),
    "synth": ("ocr.io", "ocr.pipeline", "ocr.batch", "ocr.cli", "ocr.stages.segment"),
}
"""Package -> module prefixes it must not import (anywhere in its files, lazily or not)."""

ENGINE_FORBIDDEN = ("celery", "boto3", "botocore", "worker")
"""No module of ``ocr/`` may import the service side."""


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for path in sorted((OCR / package).rglob("*.py")):
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                out.append(f"{path.relative_to(OCR.parent)} imports {name}")
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_follow_its_rule(package: str) -> None:
    assert offending(package, FORBIDDEN[package]) == []


def test_engine_imports_no_service_code() -> None:
    assert offending(".", ENGINE_FORBIDDEN) == []


def test_every_package_says_what_lives_there() -> None:
    for init in sorted(OCR.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc) > 40, f"{init.relative_to(OCR.parent)} has no docstring"


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("def f():\n    from ocr.pipeline import transcribe_page\n")
    assert imported_modules(bad) == ["ocr.pipeline"]
