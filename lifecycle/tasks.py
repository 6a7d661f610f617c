"""Template applications: one task per bucket, by id, idempotent, enqueued on commit.

Retry style as storage.tasks: only transient AWS errors (throttling, network) are retried,
with exponential backoff and jitter; anything else is a final result on the batch page.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from accounts.errors import is_transient
from accounts.retry import retry_policy
from lifecycle.models import LifecycleVersion, TemplateApplication
from lifecycle.plan import FixConflict, FixError, LifecycleInvalid, portal_rules, run_rules
from lifecycle.starters import with_template

logger = logging.getLogger(__name__)
Status = TemplateApplication.Status


def _transient(exc: BaseException) -> bool:
    cause = exc.__cause__
    return bool(getattr(exc, "transient", False) or (cause is not None and is_transient(cause)))


def _finish(app_id: int, status: str, message: str) -> None:
    TemplateApplication.objects.filter(pk=app_id).update(
        status=status, message=message, finished_at=timezone.now()
    )


class TransientLifecycleError(Exception):
    """AWS throttled or failed for a moment: the one error this task retries (accounts.retry)."""


@shared_task(
    bind=True, name="lifecycle.apply_template_to_bucket", **retry_policy(TransientLifecycleError)
)
def apply_template_to_bucket(self: Any, application_id: int) -> dict[str, Any]:
    app = (
        TemplateApplication.objects.select_related("template", "bucket__account__tenant", "actor")
        .filter(pk=application_id)
        .first()
    )
    if app is None:
        return {"application_id": application_id, "skipped": "gone"}
    # Claim it: a second delivery of the same message finds it no longer pending.
    claimed = TemplateApplication.objects.filter(pk=app.pk, status=Status.PENDING).update(
        status=Status.RUNNING
    )
    if not claimed:
        return {"application_id": application_id, "skipped": app.status}
    desired = with_template(portal_rules(app.bucket), list(app.template.rules))
    try:
        outcome = run_rules(
            app.bucket,
            desired,
            reason=LifecycleVersion.Reason.TEMPLATE,
            detail=f"template {app.template.name}",
            actor=app.actor,
            dry_run=False,
            expected_digest=app.expected_digest or None,
        )
    except (LifecycleInvalid, FixConflict) as exc:
        _finish(app.pk, Status.REFUSED, str(exc))
        return {"application_id": application_id, "status": Status.REFUSED}
    except FixError as exc:
        if _transient(exc) and self.request.retries < (self.max_retries or 0):
            # Pending again, so the retry can claim it; the policy waits and retries.
            TemplateApplication.objects.filter(pk=app.pk).update(status=Status.PENDING)
            raise TransientLifecycleError(str(exc)) from exc
        _finish(app.pk, Status.FAILED, str(exc))
        return {"application_id": application_id, "status": Status.FAILED}
    status = Status.APPLIED if outcome.applied else Status.NOOP
    _finish(app.pk, status, outcome.plan.summary)
    return {"application_id": application_id, "status": status}


def enqueue_applications(applications: list[TemplateApplication]) -> None:
    """Send one task per application once the caller's transaction commits."""
    ids = [a.pk for a in applications]
    transaction.on_commit(lambda: [apply_template_to_bucket.delay(i) for i in ids])
