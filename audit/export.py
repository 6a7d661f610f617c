"""AuditEvent rows as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from audit.models import AuditEvent

CSV_COLUMNS = [
    "id",
    "created_at",
    "tenant_slug",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "request_id",
    "client_ip",
    "before",
    "after",
    "prev_hash",
    "hash",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_safe(value: object) -> str:
    # Documents (before/after) as JSON, never Python's repr of a dict.
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, default=str)
    # Cells starting with = + - @ are formulas in spreadsheets (CSV injection).
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def csv_rows(events: Iterable[AuditEvent]) -> Iterator[str]:
    """The header, then one CSV line per event."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events:
        yield writer.writerow([csv_safe(getattr(event, c)) for c in CSV_COLUMNS])
