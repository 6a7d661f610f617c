"""Per-class usage sums built from a stream of object versions, delete markers and uploads.

Memory is flat in the number of objects: only per-class counters and the state of the key being
read are kept. The whole state is JSON-serialisable so a listing can stop and resume.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from .prices import ClassRules, PriceTable

NONCURRENT_KEEP_NEWER = 3  # the suggested rule: keep 3 newer noncurrent versions ...
NONCURRENT_EXPIRE_DAYS = 90  # ... and expire the rest 90 days after they became noncurrent
STALE_UPLOAD_DAYS = 7
OLD_CURRENT_DAYS = 90
TRANSITION_MIN_BYTES = 128 * 1024


def normalise_class(storage_class: str | None) -> str:
    """S3 omits StorageClass for Standard in some responses; GLACIER_IR etc. pass through."""
    return (storage_class or "STANDARD").upper()


@dataclass
class ClassUsage:
    bytes: int = 0
    object_count: int = 0
    noncurrent_bytes: int = 0
    noncurrent_objects: int = 0
    delete_markers: int = 0
    incomplete_upload_bytes: int = 0
    incomplete_uploads: int = 0
    class_overhead_bytes: int = 0
    standard_overhead_bytes: int = 0
    monitored_objects: int = 0
    noncurrent_expirable_bytes: int = 0
    expired_delete_markers: int = 0
    stale_upload_bytes: int = 0
    stale_uploads: int = 0
    old_current_bytes: int = 0
    old_current_objects: int = 0

    def add(self, other: ClassUsage) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


INT_FIELDS = [f.name for f in fields(ClassUsage)]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class Accumulator:
    """Feed versions newest-first per key (the order ListObjectVersions returns them)."""

    def __init__(self, now: datetime, table: PriceTable) -> None:
        self.now = now
        self.table = table
        self.classes: dict[str, ClassUsage] = {}
        self._rules: dict[str, ClassRules] = {}
        # the key being read
        self._key: str | None = None
        self._key_entries = 0
        self._key_only_marker = False
        self._key_noncurrent_rank = 0
        self._newer_modified: datetime | None = None

    def usage(self, storage_class: str) -> ClassUsage:
        found = self.classes.get(storage_class)
        if found is None:
            found = self.classes[storage_class] = ClassUsage()
        return found

    def rules(self, storage_class: str) -> ClassRules:
        found = self._rules.get(storage_class)
        if found is None:
            found = self._rules[storage_class] = self.table.rules(storage_class)
        return found

    def _next_key(self, key: str) -> None:
        if key == self._key:
            return
        self._finish_key()
        self._key = key
        self._key_entries = 0
        self._key_only_marker = False
        self._key_noncurrent_rank = 0
        self._newer_modified = None

    def _finish_key(self) -> None:
        # A delete marker with no version under it: "expired", removable by a lifecycle rule.
        if self._key is not None and self._key_entries == 1 and self._key_only_marker:
            self.usage("STANDARD").expired_delete_markers += 1

    def _noncurrent_expirable(self, modified: datetime) -> bool:
        """Would 'keep 3 newer noncurrent, expire 90 days after noncurrent' remove this one?"""
        became_noncurrent = self._newer_modified or modified
        return self._key_noncurrent_rank >= NONCURRENT_KEEP_NEWER and (
            self.now - became_noncurrent >= timedelta(days=NONCURRENT_EXPIRE_DAYS)
        )

    def add_version(
        self,
        key: str,
        size: int,
        storage_class: str | None,
        is_latest: bool,
        last_modified: datetime,
    ) -> None:
        self._next_key(key)
        cls = normalise_class(storage_class)
        row = self.usage(cls)
        rules = self.rules(cls)
        if is_latest:
            row.bytes += size
            row.object_count += 1
            if (
                cls == "STANDARD"
                and size >= TRANSITION_MIN_BYTES
                and self.now - last_modified >= timedelta(days=OLD_CURRENT_DAYS)
            ):
                row.old_current_bytes += size
                row.old_current_objects += 1
        else:
            row.noncurrent_bytes += size
            row.noncurrent_objects += 1
            if self._noncurrent_expirable(last_modified):
                row.noncurrent_expirable_bytes += size
            self._key_noncurrent_rank += 1
        if rules.min_object_bytes and size < rules.min_object_bytes:
            row.class_overhead_bytes += rules.min_object_bytes - size
        row.class_overhead_bytes += rules.class_overhead_bytes
        row.standard_overhead_bytes += rules.standard_overhead_bytes
        if rules.monitored_above_bytes is not None and size >= rules.monitored_above_bytes:
            row.monitored_objects += 1
        self._key_entries += 1
        self._newer_modified = last_modified

    def add_delete_marker(self, key: str, is_latest: bool, last_modified: datetime) -> None:
        self._next_key(key)
        self.usage("STANDARD").delete_markers += 1
        if not is_latest:
            self._key_noncurrent_rank += 1
        self._key_entries += 1
        self._key_only_marker = is_latest and self._key_entries == 1
        self._newer_modified = last_modified

    def add_upload(self, storage_class: str | None, size: int, initiated: datetime) -> None:
        row = self.usage(normalise_class(storage_class))
        row.incomplete_upload_bytes += size
        row.incomplete_uploads += 1
        if self.now - initiated >= timedelta(days=STALE_UPLOAD_DAYS):
            row.stale_upload_bytes += size
            row.stale_uploads += 1

    def finish(self) -> dict[str, ClassUsage]:
        self._finish_key()
        self._key = None
        return {cls: usage for cls, usage in sorted(self.classes.items())}

    # --- resumable state ---
    def state(self) -> dict[str, Any]:
        return {
            "classes": {cls: asdict(u) for cls, u in self.classes.items()},
            "key": self._key,
            "key_entries": self._key_entries,
            "key_only_marker": self._key_only_marker,
            "key_noncurrent_rank": self._key_noncurrent_rank,
            "newer_modified": _iso(self._newer_modified),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], now: datetime, table: PriceTable) -> Accumulator:
        acc = cls(now, table)
        for name, values in state.get("classes", {}).items():
            acc.classes[name] = ClassUsage(**{k: int(values.get(k, 0)) for k in INT_FIELDS})
        acc._key = state.get("key")
        acc._key_entries = int(state.get("key_entries", 0))
        acc._key_only_marker = bool(state.get("key_only_marker", False))
        acc._key_noncurrent_rank = int(state.get("key_noncurrent_rank", 0))
        newer = state.get("newer_modified")
        acc._newer_modified = datetime.fromisoformat(newer) if newer else None
        return acc
