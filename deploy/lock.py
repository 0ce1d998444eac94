"""Write deploy/requirements.lock: the runtime dependencies of scanscribe, pinned.

Why a generated constraints file: the image must install exactly what the tests ran against,
not whatever PyPI serves on the day of the build. The pins are read from the environment this
runs in (the project's .venv), following only the runtime requirements of the ``scanscribe``
distribution (not the ``dev`` extra), so pytest, moto and mypy stay out of the image.

    .venv/bin/python deploy/lock.py            # rewrite deploy/requirements.lock
    .venv/bin/python deploy/lock.py --check    # exit 1 when the file is stale
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "scanscribe"
LOCK = Path(__file__).resolve().parent / "requirements.lock"
HEADER = (
    "# Runtime dependencies of scanscribe, pinned from the tested venv by deploy/lock.py.\n"
    "# The image installs with: pip install -c deploy/requirements.lock .\n"
    "# Regenerate after changing pyproject.toml: make lock\n"
)


def runtime_closure(project: str = PROJECT) -> dict[str, str]:
    """Canonical name -> installed version for every runtime requirement, transitively."""
    pins: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [(project, frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        dist = distribution(name)
        if canonicalize_name(name) != canonicalize_name(project):
            pins[canonicalize_name(name)] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            # Evaluate markers once per requested extra (and once with none).
            envs = [{"extra": e} for e in extras] or [{"extra": ""}]
            if req.marker is not None and not any(req.marker.evaluate(env) for env in envs):
                continue
            try:
                distribution(req.name)
            except PackageNotFoundError as e:
                raise SystemExit(f"{req.name} (needed by {name}) is not installed: {e}") from e
            todo.append((req.name, frozenset(req.extras)))
    return pins


def render(pins: dict[str, str]) -> str:
    return HEADER + "".join(f"{n}=={v}\n" for n, v in sorted(pins.items()))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="compare instead of writing")
    args = p.parse_args(argv)
    text = render(runtime_closure())
    if args.check:
        if LOCK.read_text() != text:
            print(f"{LOCK} is stale: run make lock", file=sys.stderr)
            return 1
        return 0
    LOCK.write_text(text)
    print(f"wrote {LOCK} ({text.count('==')} pins)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
