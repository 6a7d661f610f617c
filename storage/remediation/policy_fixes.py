"""Bucket policy fixes: add a TLS-only statement, remove one public statement.

Both edit the policy document in place: every other statement, the Version and the Id stay
exactly as they were.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from storage.remediation.base import Fix, FixContext, FixError, FixPlan, Request
from storage.scan.policy import PolicyParseError, analyze_policy, has_tls_only_statement

POLICY_VERSION = "2012-10-17"
TLS_SID = "DenyInsecureTransport"


def read_policy(ctx: FixContext) -> dict[str, Any] | None:
    fetched = ctx.read("GetBucketPolicy")
    if fetched.not_configured:
        return None
    text = (fetched.value or {}).get("Policy") or ""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise FixError(f"The bucket policy is not valid JSON ({exc}); fix it by hand.") from exc
    if not isinstance(document, dict):
        raise FixError("The bucket policy is not a JSON object; fix it by hand.")
    return document


def statements_of(document: dict[str, Any]) -> list[Any]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _unique_sid(statements: list[Any], wanted: str) -> str:
    taken = {s.get("Sid") for s in statements if isinstance(s, dict)}
    sid, n = wanted, 2
    while sid in taken:
        sid, n = f"{wanted}{n}", n + 1
    return sid


class TlsOnly(Fix):
    name = "tls_only"
    label = "Add a TLS-only statement"
    description = "Deny every request to the bucket and its objects that does not use TLS."
    fixes_check = "tls_only"

    def plan(self, ctx: FixContext, params: dict[str, Any], *, limit: int | None = None) -> FixPlan:
        before = read_policy(ctx)
        if before is not None and has_tls_only_statement(before, bucket=ctx.bucket_name):
            return FixPlan(
                self.name,
                ctx.bucket_name,
                "The bucket policy already denies requests without TLS; nothing to do.",
                before=before,
                after=before,
                noop=True,
            )
        after = copy.deepcopy(before) if before is not None else {"Version": POLICY_VERSION}
        statements = statements_of(after)
        statements.append(
            {
                "Sid": _unique_sid(statements, TLS_SID),
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [ctx.bucket_arn, f"{ctx.bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        )
        after["Statement"] = statements
        kept = len(statements) - 1
        return FixPlan(
            self.name,
            ctx.bucket_name,
            "Add a statement denying requests without TLS"
            + (f"; the {kept} existing statement(s) stay as they are." if kept else "."),
            requests=[
                Request("PutBucketPolicy", {"Bucket": ctx.bucket_name, "Policy": json.dumps(after)})
            ],
            before=before,
            after=after,
            notes=["Clients that still use plain http:// URLs get Access Denied afterwards."],
        )


def _match(sid_or_index: str, statements: list[Any]) -> int:
    """The 0-based index of the statement a label names: its Sid, or "#N" (1-based)."""
    wanted = sid_or_index.strip()
    if wanted.startswith("#") and wanted[1:].isdigit():
        index = int(wanted[1:]) - 1
        if 0 <= index < len(statements):
            return index
        raise FixError(f"The bucket policy has no statement {wanted}.")
    for index, statement in enumerate(statements):
        if isinstance(statement, dict) and statement.get("Sid") == wanted:
            return index
    raise FixError(f'The bucket policy has no statement with Sid "{wanted}".')


class RemovePublicStatement(Fix):
    name = "remove_public_statement"
    label = "Remove a public statement"
    description = "Delete one statement that gives the public access; keep all the others."
    fixes_check = "policy"

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"statement": (params.get("statement") or "").strip()}

    def plan(self, ctx: FixContext, params: dict[str, Any], *, limit: int | None = None) -> FixPlan:
        before = read_policy(ctx)
        if before is None:
            return FixPlan(
                self.name,
                ctx.bucket_name,
                "The bucket has no policy; nothing to remove.",
                noop=True,
            )
        try:
            analysis = analyze_policy(before, bucket=ctx.bucket_name)
        except PolicyParseError as exc:
            raise FixError(
                f"The bucket policy cannot be analysed ({exc}); fix it by hand."
            ) from exc
        statements = statements_of(before)
        public = {f.index: f for f in analysis.public_statements}
        if not public:
            return FixPlan(
                self.name,
                ctx.bucket_name,
                "No statement of the bucket policy is public; nothing to remove.",
                before=before,
                after=before,
                noop=True,
            )
        label = params.get("statement") or ""
        if not label:
            if len(public) > 1:
                names = ", ".join(f.label for f in public.values())
                raise FixError(f"The policy has several public statements ({names}): name one.")
            index = next(iter(public))
        else:
            index = _match(label, statements)
        if index not in public:
            raise FixError(
                f"Statement {label} is not public; the portal only removes public statements."
            )
        finding = public[index]
        remaining = [s for i, s in enumerate(statements) if i != index]
        if remaining:
            after: dict[str, Any] | None = {**copy.deepcopy(before), "Statement": remaining}
            request = Request(
                "PutBucketPolicy", {"Bucket": ctx.bucket_name, "Policy": json.dumps(after)}
            )
            kept = f"; the other {len(remaining)} statement(s) stay as they are"
        else:
            after = None
            request = Request("DeleteBucketPolicy", {"Bucket": ctx.bucket_name})
            kept = "; it is the only statement, so the policy is deleted"
        return FixPlan(
            self.name,
            ctx.bucket_name,
            f"Remove {finding.label} ({finding.reason}){kept}.",
            requests=[request],
            before=before,
            after=after,
            notes=["Anyone relying on that public access loses it."],
        )
