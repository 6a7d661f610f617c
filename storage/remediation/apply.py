"""apply_fix(): what "Apply" does, the same from the portal's fix page and the admin action.

Streaming fixes (object ACL resets) are queued for a worker once the caller's transaction
commits; every other fix runs now through :func:`storage.remediation.run_fix` (apply, audit,
rescan), refusing when the bucket changed since the dry run the person reviewed. The callers
only word the answer. (``manage.py fix`` calls run_fix itself: it has no dry run to compare.)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from accounts.users import User
from storage.models import Bucket
from storage.remediation import FixConflict, FixError, FixOutcome, get_fix, run_fix
from storage.tasks import queue_object_acl_reset


class Applied(enum.Enum):
    QUEUED = "queued"  # a worker does it (streaming fix)
    APPLIED = "applied"  # changed, audited, rescanned
    NOTHING_TO_DO = "nothing to do"  # the bucket already was as the fix makes it
    CONFLICT = "conflict"  # the bucket changed since the dry run: nothing was sent
    FAILED = "failed"  # AWS refused, or the parameters were wrong: `error` says why


@dataclass(frozen=True)
class FixResult:
    status: Applied
    outcome: FixOutcome | None = None
    error: FixError | None = None


def apply_fix(
    bucket: Bucket,
    action: str,
    params: dict[str, Any],
    *,
    actor: User,
    expected_digest: str | None,
) -> FixResult:
    """Apply `action` to `bucket` as `actor`; never raises FixError (see FixResult.error)."""
    try:
        fix = get_fix(action)
        if fix.streaming:
            queue_object_acl_reset(bucket, params, actor)
            return FixResult(Applied.QUEUED)
        outcome = run_fix(
            bucket,
            action,
            params,
            actor=actor,
            dry_run=False,
            expected_digest=expected_digest,
        )
    except FixConflict as exc:
        return FixResult(Applied.CONFLICT, error=exc)
    except FixError as exc:
        return FixResult(Applied.FAILED, error=exc)
    status = Applied.APPLIED if outcome.applied else Applied.NOTHING_TO_DO
    return FixResult(status, outcome=outcome)
