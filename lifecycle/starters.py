"""Built-in template starting points (the hardening guide's section 3 policies), and applying
a template's rules on top of a bucket's portal rules."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import Tenant
from lifecycle.models import LifecycleTemplate
from lifecycle.s3shape import Rule

ALL: dict[str, Any] = {}
STARTERS: list[dict[str, Any]] = [
    {
        "builtin": "hardening",
        "name": "Hardening guide: tiers and clean-up",
        "description": (
            "All objects: Standard-IA at 30 days, Glacier Flexible Retrieval at 90, Deep Archive "
            "at 365; noncurrent versions expire after 90 days keeping the newest 3; incomplete "
            "multipart uploads aborted after 7 days; expired delete markers removed."
        ),
        "rules": [
            {
                "ID": "s3portal-tiering",
                "Filter": ALL,
                "Status": "Enabled",
                "Transitions": [
                    {"Days": 30, "StorageClass": "STANDARD_IA"},
                    {"Days": 90, "StorageClass": "GLACIER"},
                    {"Days": 365, "StorageClass": "DEEP_ARCHIVE"},
                ],
            },
            {
                "ID": "s3portal-noncurrent-versions",
                "Filter": ALL,
                "Status": "Enabled",
                "NoncurrentVersionExpiration": {"NoncurrentDays": 90, "NewerNoncurrentVersions": 3},
            },
            {
                "ID": "s3portal-abort-uploads",
                "Filter": ALL,
                "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            },
            {
                "ID": "s3portal-delete-markers",
                "Filter": ALL,
                "Status": "Enabled",
                "Expiration": {"ExpiredObjectDeleteMarker": True},
            },
        ],
    },
    {
        "builtin": "log-bucket",
        "name": "Hardening guide: access-log bucket",
        "description": (
            "Access logs: Standard-IA at 30 days, deleted after a year; incomplete multipart "
            "uploads aborted after 7 days."
        ),
        "rules": [
            {
                "ID": "s3portal-log-retention",
                "Filter": ALL,
                "Status": "Enabled",
                "Expiration": {"Days": 365},
                "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
            },
            {
                "ID": "s3portal-abort-uploads",
                "Filter": ALL,
                "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            },
        ],
    },
]


def ensure_starters(tenant: Tenant) -> None:
    """Give the tenant its own editable copy of each starter once (never overwrite edits)."""
    have = set(
        LifecycleTemplate.objects.filter(tenant=tenant)
        .exclude(builtin="")
        .values_list("builtin", flat=True)
    )
    for starter in STARTERS:
        if starter["builtin"] in have:
            continue
        try:
            with transaction.atomic():
                LifecycleTemplate.objects.create(
                    tenant=tenant,
                    name=starter["name"],
                    description=starter["description"],
                    rules=[dict(r, Filter=dict(r["Filter"])) for r in starter["rules"]],
                    builtin=starter["builtin"],
                )
        except IntegrityError:
            continue  # a tenant template of that name exists already


def with_template(portal: list[Rule], template_rules: list[Rule]) -> list[Rule]:
    """The bucket's portal rules with the template's rules added, or replacing same IDs."""
    by_id = {r["ID"]: r for r in template_rules}
    merged = [by_id.pop(r["ID"], r) for r in portal]
    return merged + [r for r in template_rules if r["ID"] in by_id]
