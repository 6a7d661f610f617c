"""Shared bits of the scan/fix commands: account and bucket lookup, the JSON report shape."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db.models import QuerySet

from accounts.models import AwsAccount, Tenant
from storage.models import Bucket, Finding, ScanRun


def check_tenant(tenant: str | None) -> None:
    """Refuse an unknown --tenant by name, before any other lookup blames something else."""
    if tenant and not Tenant.objects.filter(slug=tenant).exists():
        known = ", ".join(Tenant.objects.order_by("slug").values_list("slug", flat=True)[:10])
        raise CommandError(f"unknown tenant {tenant!r} (tenants: {known or 'none yet'})")


def select_accounts(tenant: str | None, account: str | None) -> QuerySet[AwsAccount]:
    check_tenant(tenant)
    accounts = AwsAccount.objects.select_related("tenant").order_by("tenant__slug", "name")
    if not accounts.exists():
        raise CommandError(
            "no AWS account is registered yet: add one with manage.py add_aws_account"
        )
    if tenant:
        accounts = accounts.filter(tenant__slug=tenant)
        if not accounts.exists():
            raise CommandError(f"tenant {tenant!r} has no AWS account yet")
    if account:
        accounts = accounts.filter(name=account)
        if not accounts.exists():
            where = f"tenant {tenant!r}" if tenant else "any tenant"
            raise CommandError(f"unknown AWS account {account!r} in {where}")
    return accounts


def resolve_bucket(name: str, tenant: str | None, account: str | None) -> Bucket:
    """The Bucket row named `name` (known from a scan); with --account, one is created."""
    check_tenant(tenant)
    buckets = Bucket.objects.select_related("account__tenant").filter(
        name=name, gone_at__isnull=True
    )
    if tenant:
        buckets = buckets.filter(account__tenant__slug=tenant)
    if account:
        buckets = buckets.filter(account__name=account)
    found = list(buckets[:2])
    if len(found) > 1:
        raise CommandError(
            f"bucket {name!r} exists in several accounts; pass --account (and --tenant)"
        )
    if found:
        return found[0]
    if not account:
        raise CommandError(
            f"unknown bucket {name!r}: scan it first (manage.py scan {name} --account NAME) "
            "or pass --account"
        )
    owner = select_accounts(tenant, account)
    if owner.count() > 1:
        raise CommandError(f"account {account!r} exists in several tenants; pass --tenant")
    bucket, _ = Bucket.objects.get_or_create(account=owner.get(), name=name)
    return bucket


def cli_actor(username: str | None) -> tuple[Any, str]:
    """(user or None, name recorded in the audit trail)."""
    if username:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"unknown user {username!r}")
        return user, user.get_username()
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        who = "unknown"
    return None, f"cli:{who}"


def finding_dict(finding: Finding, run: ScanRun | None) -> dict[str, Any]:
    return {
        "check": finding.check_name,
        "severity": finding.severity,
        "detail": finding.detail,
        "first_seen": finding.first_seen_at.isoformat(),
        "last_seen": finding.last_seen_at.isoformat(),
        "new": run is not None and finding.opened_by_id == run.pk,
    }


def report(
    result: Any,
    *,
    tenant_slug: str,
    findings: list[dict[str, Any]],
) -> dict[str, Any]:
    """One bucket in the `scan` command's JSON contract.

    `public` is fail-safe: when exposure could not be determined it is true, with
    `public_determined` false and the reason in `public_reasons`.
    """
    evaluation = result.evaluation
    verdict = evaluation.verdict
    return {
        "tenant": tenant_slug,
        "account": result.account.name,
        "account_id": result.account.verified_account_id or None,
        "bucket": result.name,
        "region": result.region or None,
        "public": evaluation.public is not False,
        "public_determined": evaluation.public is not None,
        "public_reasons": list(evaluation.public_reasons),
        "neutralised": list(verdict.neutralised) if verdict else [],
        "notes": list(verdict.notes) if verdict else [],
        "checks": result.checks,
        "findings": findings,
        "scanned_at": result.scanned_at.isoformat(),
    }


def unsaved_findings(result: Any) -> list[dict[str, Any]]:
    return [
        {"check": name, "severity": check["severity"], "detail": check["detail"]}
        for name, check in result.checks.items()
        if check["status"] == "fail"
    ]
