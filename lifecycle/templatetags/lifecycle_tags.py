"""The Lifecycle section of the bucket page, from stored rows only (no AWS call).

Used by templates/storage/bucket_detail.html as ``{% lifecycle_section bucket role %}``, so
the storage app never imports lifecycle.
"""

from __future__ import annotations

from typing import Any

from django import template

from accounts.access import role_at_least
from accounts.models import Role
from lifecycle import conflicts
from lifecycle.models import LifecycleVersion
from lifecycle.plan import DRIFT_CHECK
from lifecycle.s3shape import describe_rule

register = template.Library()


@register.inclusion_tag("lifecycle/_bucket_section.html")
def lifecycle_section(bucket: Any, role: str | None = None) -> dict[str, Any]:
    version = LifecycleVersion.objects.filter(bucket=bucket).order_by("-number").first()
    rules = version.rules if version else []
    owned = set(version.owned_ids) if version else set()
    return {
        "bucket": bucket,
        "lc_version": version,
        "lc_as_of": version.created_at if version else None,
        "lc_rules": [
            {
                "id": r.get("ID"),
                "owner": "portal" if r.get("ID") in owned else "foreign",
                "words": describe_rule(r),
            }
            for r in rules
        ],
        "lc_conflicts": len(conflicts.analyse(rules)),
        "lc_drift": bucket.findings.filter(check_name=DRIFT_CHECK, resolved_at__isnull=True)
        .order_by("-first_seen_at")
        .first(),
        "lc_may_edit": role_at_least(role, Role.OPERATOR),
    }
