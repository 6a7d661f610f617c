"""Platform staff: every public bucket of every tenant on one page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from storage.models import Bucket


@login_required
def public_buckets(request: HttpRequest) -> HttpResponse:
    if not request.user.is_superuser:
        raise PermissionDenied("Only platform staff see buckets across tenants.")
    buckets = (
        Bucket.objects.for_user(request.user)  # every tenant's: platform staff only, above
        .filter(gone_at__isnull=True)
        .filter(Q(is_public=True) | Q(is_public__isnull=True, last_scanned_at__isnull=False))
        .select_related("account__tenant")
        .order_by("account__tenant__name", "name")
    )
    if request.GET.get("unknown") != "1":
        buckets = buckets.filter(is_public=True)
    page = Paginator(buckets, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "storage/public_buckets.html",
        {"page": page, "show_unknown": request.GET.get("unknown") == "1"},
    )
