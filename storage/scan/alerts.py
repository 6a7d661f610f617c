"""E-mail the tenant's admins about new high-severity findings (a bucket became public, above
all). Sent after the scan's transaction commits; a finding is marked alerted only once the mail
went out, so a failed send is retried after the next scan of the account."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from storage.models import Finding, Severity

logger = logging.getLogger(__name__)


def pending_alerts(account_id: int | None = None) -> QuerySet[Finding]:
    findings = Finding.objects.filter(
        severity=Severity.HIGH,
        resolved_at__isnull=True,
        alerted_at__isnull=True,
        bucket__gone_at__isnull=True,
    ).select_related("bucket__account__tenant")
    if account_id is not None:
        findings = findings.filter(bucket__account_id=account_id)
    return findings


def alert_after_commit(account_id: int) -> None:
    transaction.on_commit(lambda: send_pending_alerts(account_id))


def recipients(tenant_id: int) -> list[str]:
    users = get_user_model().objects.filter(
        is_active=True, memberships__tenant_id=tenant_id, memberships__role=Role.ADMIN
    )
    return sorted({u.email for u in users if u.email})


def send_pending_alerts(account_id: int | None = None) -> int:
    """Send one mail per tenant listing its unalerted high findings; returns mails sent."""
    by_tenant: dict[int, list[Finding]] = defaultdict(list)
    for finding in pending_alerts(account_id).order_by("bucket__name", "check_name"):
        by_tenant[finding.bucket.account.tenant_id].append(finding)
    sent = 0
    for tenant_id, findings in by_tenant.items():
        tenant = findings[0].bucket.account.tenant
        to = recipients(tenant_id)
        if not to:
            logger.warning("no tenant admin with an e-mail address for tenant %s", tenant.slug)
            continue
        base = getattr(settings, "SCAN_ALERT_BASE_URL", "").rstrip("/")
        items = [
            {
                "finding": f,
                "url": base + reverse("storage:bucket_detail", args=[f.bucket_id]),
            }
            for f in findings
        ]
        public_buckets = sorted({f.bucket.name for f in findings if f.check_name == "public"})
        context = {"tenant": tenant, "items": items, "public_buckets": public_buckets}
        subject = render_to_string("storage/email/alert_subject.txt", context).strip()
        body = render_to_string("storage/email/alert_body.txt", context)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
        except Exception:  # a mail outage must not fail the scan; retried after the next one
            logger.exception("could not send the findings alert for tenant %s", tenant.slug)
            continue
        Finding.objects.filter(pk__in=[f.pk for f in findings]).update(alerted_at=timezone.now())
        sent += 1
    return sent
