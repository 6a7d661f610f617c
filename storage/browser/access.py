"""Who may browse which bucket, and how.

* Operators and tenant admins browse and act on every bucket of their tenant's accounts.
* Members and viewers browse read-only (list, object page, download) only where the tenant's
  BrowserSettings allow it (off by default).
* The portal's own file-space buckets (primary and backup) are browsable by tenant admins only:
  members use their Files page, and the keys there name people.
* Another tenant's bucket, a bucket of a deleted account and a bucket that is gone: 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest

from accounts.access import get_for_user, role_at_least, user_role
from accounts.models import Role
from storage.files.models import FileSpace
from storage.models import Bucket

from .models import BrowserSettings

MAX_PK = 2**63 - 1


def settings_for(tenant_id: int) -> BrowserSettings:
    """The tenant's settings row, or an unsaved one holding the defaults."""
    found = BrowserSettings.objects.filter(tenant_id=tenant_id).first()
    return found if found is not None else BrowserSettings(tenant_id=tenant_id)


def is_file_space_bucket(bucket: Bucket) -> bool:
    tenant_id = bucket.account.tenant_id
    return (
        FileSpace.objects.filter(tenant_id=tenant_id)
        .filter(Q(bucket=bucket.name) | Q(backup_bucket=bucket.name))
        .exists()
    )


@dataclass(frozen=True)
class BrowseAccess:
    user: Any
    bucket: Bucket
    role: str
    settings: BrowserSettings

    @property
    def may_act(self) -> bool:
        return role_at_least(self.role, Role.OPERATOR)

    @property
    def tenant(self) -> Any:
        return self.bucket.account.tenant


def browse_access(request: HttpRequest, pk: int, *, act: bool = False) -> BrowseAccess:
    """The bucket `pk` if the user may browse it (act=True: change objects in it).

    404: not a bucket of one of the user's tenants, or gone. 403: the role is too weak.
    """
    if pk > MAX_PK:
        raise Http404("No such bucket.")
    bucket = get_for_user(request, Bucket, pk, role=Role.VIEWER)
    if bucket.gone_at is not None:
        raise Http404(f"Bucket {bucket.name} no longer exists in its account (the last scan).")
    tenant_id = bucket.account.tenant_id
    role = user_role(request.user, tenant_id)
    assert role is not None  # get_for_user checked membership
    browser_settings = settings_for(tenant_id)
    if is_file_space_bucket(bucket) and not role_at_least(role, Role.ADMIN):
        raise PermissionDenied(
            f"{bucket.name} holds the portal's own files: only tenant admins may browse it "
            "(everyone else uses the Files page)."
        )
    if act and not role_at_least(role, Role.OPERATOR):
        raise PermissionDenied("Changing objects needs the Operator role or higher.")
    if not role_at_least(role, Role.OPERATOR) and not browser_settings.members_may_browse:
        raise PermissionDenied(
            "Browsing objects needs the Operator role in this tenant (a tenant admin can let "
            "members and viewers browse read-only)."
        )
    return BrowseAccess(request.user, bucket, role, browser_settings)
