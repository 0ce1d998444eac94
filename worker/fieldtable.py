"""A batch's form fields as ``_fields.csv`` beside ``_batch.json``.

The table is built from the page results the batch wrote or found, read back from the
output prefix: a page skipped because its current result existed has its fields there too,
and a chunk whose return value was lost still left its results. One row per page result
(source key, page index), one column per field label (``ocr.io.fieldtable``, the same table
as ``scanscribe transcribe --fields-csv``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ocr.io.fieldtable import FieldRow, field_row, fields_csv
from schemas.page import PageResult
from schemas.tasks import FileOutcome
from worker.storage import Storage

FIELDS_NAME = "_fields.csv"
CSV_TYPE = "text/csv; charset=utf-8"
ERROR_SUFFIX = ".error.json"


def page_result_keys(outcomes: Iterable[FileOutcome]) -> list[str]:
    """The outputs that are page results (``.json``, not ``.error.json``), by source key."""
    return [
        key
        for o in sorted(outcomes, key=lambda o: o.key)
        for key in sorted(o.outputs)
        if key.endswith(".json") and not key.endswith(ERROR_SUFFIX)
    ]


def batch_field_rows(
    storage: Storage, bucket: str, outcomes: Iterable[FileOutcome]
) -> list[FieldRow]:
    """Each page result's fields, read back from ``bucket``."""
    return [
        field_row(PageResult.model_validate_json(storage.download(bucket, key).data))
        for key in page_result_keys(outcomes)
    ]


def write_fields_csv(
    storage: Storage, bucket: str, key: str, outcomes: Iterable[FileOutcome]
) -> None:
    """One PUT of the whole table (an object store write is atomic)."""
    text = fields_csv(batch_field_rows(storage, bucket, outcomes))
    storage.upload(bucket, key, text.encode(), CSV_TYPE)
