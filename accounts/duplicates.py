"""Two AWS accounts of one tenant that reach the same AWS account (same verified account id and
endpoint) would list every bucket twice and open every finding twice. The account connected
first is the one scanned and shown; the others are "shadowed" (verification warns about them).
"""

from __future__ import annotations

from accounts.models import AwsAccount


def shadowed_account_ids(tenant_id: int | None = None) -> set[int]:
    """Ids of verified accounts that duplicate an earlier verified account of their tenant."""
    accounts = AwsAccount.objects.filter(last_verified_at__isnull=False, last_error="").exclude(
        verified_account_id=""
    )
    if tenant_id is not None:
        accounts = accounts.filter(tenant_id=tenant_id)
    first: dict[tuple[int, str, str], int] = {}
    shadowed: set[int] = set()
    rows = accounts.order_by("pk").values_list(
        "pk", "tenant_id", "verified_account_id", "endpoint_url"
    )
    for pk, tenant, aws_account_id, endpoint in rows:
        key = (tenant, aws_account_id, endpoint)
        if key in first:
            shadowed.add(pk)
        else:
            first[key] = pk
    return shadowed
