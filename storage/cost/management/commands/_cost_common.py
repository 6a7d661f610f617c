"""Shared bits of the cost commands: output formats."""

from __future__ import annotations

import csv
import json
from io import TextIOBase
from typing import Any

FORMATS = ["table", "json", "csv"]


def write_rows(out: TextIOBase, rows: list[dict[str, Any]], columns: list[str], fmt: str) -> None:
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return
    widths = {c: max([len(c)] + [len(_cell(r.get(c))) for r in rows]) for c in columns}
    out.write("  ".join(c.ljust(widths[c]) for c in columns) + "\n")
    for r in rows:
        out.write("  ".join(_cell(r.get(c)).ljust(widths[c]) for c in columns) + "\n")


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def dump_json(out: TextIOBase, data: Any) -> None:
    out.write(json.dumps(data, indent=2) + "\n")
