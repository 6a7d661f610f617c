"""Reset object ACLs to private (pattern-filtered), object by object, concurrently.

Only objects whose ACL grants anything beyond the owner's FULL_CONTROL are written, so the
audit trail names exactly what changed. Memory stays flat: keys stream from ListObjectsV2 and
only a bounded sample of the changes is kept for the dry run and the audit event.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from storage.remediation.base import Fix, FixContext, FixError, FixPlan, Request
from storage.scan.object_acl import (
    ERROR,
    PRIVATE,
    ObjectAcl,
    ObjectAclError,
    bounded_map,
    iter_keys,
    read_object_acl,
)

SAMPLE_SIZE = 50  # objects listed in dry runs and audit events
AFTER_ACL = {"acl": PRIVATE, "grants": ["the owner's FULL_CONTROL only"]}


def _globs(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [str(v).strip() for v in value if str(v).strip()]


@dataclass
class ResetSummary:
    examined: int = 0
    by_acl: Counter[str] = field(default_factory=Counter)
    changed: int = 0
    failed: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def note(self, acl: ObjectAcl) -> None:
        self.examined += 1
        self.by_acl[acl.mode] += 1
        if acl.mode not in (PRIVATE, ERROR) and len(self.sample) < SAMPLE_SIZE:
            self.sample.append(acl.to_dict())
        if acl.error and len(self.errors) < SAMPLE_SIZE:
            self.errors.append(f"{acl.key}: {acl.error}")


class ResetObjectAcls(Fix):
    name = "reset_object_acls"
    label = "Reset object ACLs to private"
    description = "Make every matching object's ACL private (owner full control only)."
    fixes_check = "acl"
    streaming = True

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"only": _globs(params.get("only")), "exclude": _globs(params.get("exclude"))}

    def _acls_disabled(self, ctx: FixContext) -> bool:
        fetched = ctx.read("GetBucketOwnershipControls")
        if fetched.not_configured:
            return False
        rules = (fetched.value or {}).get("OwnershipControls", {}).get("Rules") or [{}]
        return rules[0].get("ObjectOwnership") == "BucketOwnerEnforced"

    def _keys(self, ctx: FixContext, params: dict[str, Any]) -> Any:
        return iter_keys(
            ctx.client,
            ctx.bucket_name,
            only=params["only"],
            exclude=params["exclude"],
            account_name=ctx.account.name,
        )

    def _filter_text(self, params: dict[str, Any]) -> str:
        parts = []
        if params["only"]:
            parts.append(f"matching {', '.join(params['only'])}")
        if params["exclude"]:
            parts.append(f"except {', '.join(params['exclude'])}")
        return " ".join(parts) if parts else "all objects"

    def plan(self, ctx: FixContext, params: dict[str, Any], *, limit: int | None = None) -> FixPlan:
        if self._acls_disabled(ctx):
            return FixPlan(
                self.name,
                ctx.bucket_name,
                "ACLs are disabled on this bucket (Object Ownership BucketOwnerEnforced): "
                "object ACLs have no effect; nothing to reset.",
                noop=True,
            )
        summary = ResetSummary()
        requests: list[Request] = []
        to_change = 0
        stopped = False
        limit = limit if limit is not None else settings.SCAN_OBJECT_ACL_PREVIEW_LIMIT
        try:
            for acl in bounded_map(
                lambda key: read_object_acl(ctx.client, ctx.bucket_name, key, ctx.account.name),
                self._keys(ctx, params),
                pool_size=settings.SCAN_OBJECT_ACL_POOL_SIZE,
                limit=limit + 1,
            ):
                if summary.examined >= limit:
                    stopped = True  # a key beyond the limit exists
                    break
                summary.note(acl)
                if acl.mode not in (PRIVATE, ERROR):
                    to_change += 1
                    if len(requests) < SAMPLE_SIZE:
                        requests.append(
                            Request(
                                "PutObjectAcl",
                                {"Bucket": ctx.bucket_name, "Key": acl.key, "ACL": PRIVATE},
                            )
                        )
        except ObjectAclError as exc:
            raise FixError(str(exc)) from exc
        counts = ", ".join(f"{n} {mode}" for mode, n in sorted(summary.by_acl.items()))
        what = self._filter_text(params)
        text = (
            f"Examined {summary.examined} object(s) ({what}): {counts or 'none'}. "
            f"{to_change} would be reset to private."
        )
        if stopped:
            text += f" The dry run stopped after {limit} objects; the fix goes through all."
        notes = []
        if summary.errors:
            notes.append(
                f"{len(summary.errors)} object ACL(s) could not be read: "
                + "; ".join(summary.errors[:5])
            )
        return FixPlan(
            self.name,
            ctx.bucket_name,
            text,
            requests=requests,
            before={"objects": summary.sample, "by_acl": dict(summary.by_acl)},
            after=AFTER_ACL,
            notes=notes,
            noop=to_change == 0 and not stopped,
            request_count=to_change,
            truncated=stopped or to_change > len(requests),
        )

    def apply_streaming(self, ctx: FixContext, params: dict[str, Any]) -> ResetSummary:
        """Read each object's ACL and reset the ones that are not private."""
        if self._acls_disabled(ctx):
            return ResetSummary()
        summary = ResetSummary()

        def reset(key: str) -> tuple[ObjectAcl, str]:
            acl = read_object_acl(ctx.client, ctx.bucket_name, key, ctx.account.name)
            if acl.mode in (PRIVATE, ERROR):
                return acl, ""
            try:
                ctx.send(
                    Request("PutObjectAcl", {"Bucket": ctx.bucket_name, "Key": key, "ACL": PRIVATE})
                )
            except FixError as exc:
                return acl, str(exc)
            return acl, "changed"

        try:
            for acl, outcome in bounded_map(
                reset, self._keys(ctx, params), pool_size=settings.SCAN_OBJECT_ACL_POOL_SIZE
            ):
                summary.note(acl)
                if outcome == "changed":
                    summary.changed += 1
                elif outcome:
                    summary.failed += 1
                    if len(summary.errors) < SAMPLE_SIZE:
                        summary.errors.append(f"{acl.key}: {outcome}")
        except ObjectAclError as exc:
            raise FixError(str(exc)) from exc
        return summary
