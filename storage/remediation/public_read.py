"""Make a bucket's objects publicly readable (s3-credentials' public bucket policy).

The opposite of a fix, offered for completeness and only through plan/apply: the dry run shows
the merged policy, and it needs the bucket's name typed in to confirm. Every existing statement
stays as it is. It does not touch Block Public Access: with BlockPublicPolicy on, AWS refuses the
policy, and the plan says so rather than turning the block off silently.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from storage.credentials.policies import public_read_bucket_policy
from storage.remediation.base import Fix, FixContext, FixError, FixPlan, Request
from storage.remediation.policy_fixes import POLICY_VERSION, _unique_sid, read_policy, statements_of


def _grants_public_read(statement: Any, object_arn: str) -> bool:
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    principal = statement.get("Principal")
    if principal not in ("*", {"AWS": "*"}) or statement.get("Condition"):
        return False
    actions = statement.get("Action")
    resources = statement.get("Resource")
    actions = actions if isinstance(actions, list) else [actions]
    resources = resources if isinstance(resources, list) else [resources]
    return "s3:GetObject" in actions and object_arn in resources


class PublicReadPolicy(Fix):
    name = "public_read"
    label = "Make objects publicly readable (public-read bucket policy)"
    description = (
        "Add s3-credentials' AllowAllGetObject statement: anyone on the internet may download "
        "every object. Type the bucket's name to confirm."
    )
    fixes_check = ""  # it fixes nothing: it is asked for

    def clean_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"confirm": str(params.get("confirm") or "").strip()}

    def plan(self, ctx: FixContext, params: dict[str, Any], *, limit: int | None = None) -> FixPlan:
        if params.get("confirm") != ctx.bucket_name:
            raise FixError(
                f"Making {ctx.bucket_name} public needs its name typed in to confirm "
                "(the confirm parameter)."
            )
        statement = public_read_bucket_policy(ctx.bucket_name)["Statement"][0]
        statement["Resource"] = [f"{ctx.bucket_arn}/*"]
        before = read_policy(ctx)
        if before is not None and any(
            _grants_public_read(s, f"{ctx.bucket_arn}/*") for s in statements_of(before)
        ):
            return FixPlan(
                self.name,
                ctx.bucket_name,
                "The bucket policy already lets anyone read every object; nothing to do.",
                before=before,
                after=before,
                noop=True,
            )
        after = copy.deepcopy(before) if before is not None else {"Version": POLICY_VERSION}
        statements = statements_of(after)
        statement["Sid"] = _unique_sid(statements, "AllowAllGetObject")
        statements.append(statement)
        after["Statement"] = statements
        return FixPlan(
            self.name,
            ctx.bucket_name,
            f"Let anyone read every object of {ctx.bucket_name}"
            + (
                f"; the {len(statements) - 1} existing statement(s) stay."
                if len(statements) > 1
                else "."
            ),
            requests=[
                Request("PutBucketPolicy", {"Bucket": ctx.bucket_name, "Policy": json.dumps(after)})
            ],
            before=before,
            after=after,
            notes=[
                "With Block Public Access (BlockPublicPolicy, bucket or account level) on, AWS "
                "refuses this policy; RestrictPublicBuckets makes it ineffective. The portal does "
                "not turn either off for you.",
                "The next scan reports the bucket as public.",
            ],
        )
