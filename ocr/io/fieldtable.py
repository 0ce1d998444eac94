"""Form fields of a batch as one table: a row per page, a column per field label.

What a user scanning a thousand copies of one form wants: ``source, page_index``, then one
column per field label (the union over the batch, in first-seen order), then
``flagged_fields`` listing the page's fields worth a human look. Written with the standard
library's csv module, so quotes, commas and newlines in any value never break a row.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from schemas.page import PageResult

SOURCE_COLUMN = "source"
PAGE_COLUMN = "page_index"
FLAGGED_COLUMN = "flagged_fields"
FLAGGED_SEPARATOR = "; "
UNNAMED = "FIELD_{}"
"""Column name of a field without a label (its position on the page, from 1)."""


@dataclass(frozen=True)
class FieldRow:
    """One page's fields: what the table needs, without keeping whole PageResults."""

    source: str
    page_index: int
    values: dict[str, str]
    flagged: list[str]


def field_row(result: PageResult) -> FieldRow:
    """The page's fields by column name: the label, ``FIELD_k`` when it has none, and
    ``LABEL_2``, ... when a label repeats on the page."""
    values: dict[str, str] = {}
    flagged: list[str] = []
    for k, f in enumerate(result.fields):
        name = f.label or UNNAMED.format(k + 1)
        n = 2
        base = name
        while name in values:
            name = f"{base}_{n}"
            n += 1
        values[name] = f.value
        if f.flagged:
            flagged.append(name)
    return FieldRow(result.source.path_or_uri, result.source.page_index, values, flagged)


def fields_csv(rows: Iterable[FieldRow]) -> str:
    """The table as CSV text (header first); a page without one of the columns has it empty."""
    rows = list(rows)
    columns: dict[str, None] = {}
    for r in rows:
        for name in r.values:
            columns.setdefault(name)
    reserved = {SOURCE_COLUMN, PAGE_COLUMN, FLAGGED_COLUMN}
    names = {c: (f"field:{c}" if c in reserved else c) for c in columns}
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([SOURCE_COLUMN, PAGE_COLUMN, *names.values(), FLAGGED_COLUMN])
    for r in rows:
        w.writerow(
            [
                r.source,
                r.page_index,
                *(r.values.get(c, "") for c in columns),
                FLAGGED_SEPARATOR.join(r.flagged),
            ]
        )
    return out.getvalue()


def write_fields_csv(path: Path, rows: Iterable[FieldRow]) -> None:
    """Write the table atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            f.write(fields_csv(rows))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
