"""Bucket/object ACL analysis: which grants reach the public.

AWS (S3 User Guide, "The meaning of 'public'" / ACLs): "Amazon S3 considers a bucket or object
ACL public if it grants any permissions to members of the predefined AllUsers or
AuthenticatedUsers groups". AuthenticatedUsers is *any* AWS account holder in the world, not
the users of this account, so it is public too.

Input is the ``Grants`` list of boto3's ``get_bucket_acl`` / ``get_object_acl`` response:
``[{"Grantee": {"Type": "Group", "URI": "..."}, "Permission": "READ"}, ...]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ALL_USERS_URI = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS_URI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"

ResourceKind = Literal["bucket", "object"]

# Group name -> who that is, in words.
_PUBLIC_GROUPS: dict[str, str] = {
    "AllUsers": "anyone",
    "AuthenticatedUsers": "any AWS user",
}
_GROUP_BY_URI: dict[str, str] = {
    ALL_USERS_URI.lower(): "AllUsers",
    AUTHENTICATED_USERS_URI.lower(): "AuthenticatedUsers",
}

# Canonical order, so reasons read the same whatever order S3 returned the grants in.
PERMISSION_ORDER: tuple[str, ...] = ("FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP")

# What each permission lets the grantee do (S3 User Guide, "Access control list (ACL)
# overview" / "ACL permissions"); WRITE is meaningless on an object.
_MEANING: dict[ResourceKind, dict[str, str]] = {
    "bucket": {
        "FULL_CONTROL": "every permission on the bucket",
        "READ": "list the objects",
        "WRITE": "create, overwrite and delete objects",
        "READ_ACP": "read the bucket ACL",
        "WRITE_ACP": "rewrite the bucket ACL",
    },
    "object": {
        "FULL_CONTROL": "every permission on the object",
        "READ": "read the object and its metadata",
        "WRITE": "no effect on objects",
        "READ_ACP": "read the object ACL",
        "WRITE_ACP": "rewrite the object ACL",
    },
}


@dataclass(frozen=True)
class PublicGrant:
    """All the permissions one public group holds through an ACL."""

    group: str  # "AllUsers" or "AuthenticatedUsers"
    grantee_uri: str
    audience: str  # "anyone" or "any AWS user"
    permissions: tuple[str, ...]  # in PERMISSION_ORDER, unknown ones last
    resource_kind: ResourceKind
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "grantee_uri": self.grantee_uri,
            "audience": self.audience,
            "permissions": list(self.permissions),
            "resource_kind": self.resource_kind,
            "reason": self.reason,
        }


def public_group_for_uri(uri: str | None) -> str | None:
    """``"AllUsers"``/``"AuthenticatedUsers"`` for a grantee URI, else None.

    Tolerates case and an https scheme: a hand-written or proxied ACL should not slip past.
    """
    if not uri:
        return None
    normalised = uri.strip().lower().replace("https://", "http://", 1)
    return _GROUP_BY_URI.get(normalised)


def analyze_acl(
    grants: list[dict[str, Any]] | None, *, resource_kind: ResourceKind = "bucket"
) -> list[PublicGrant]:
    """Public grants of an ACL, one :class:`PublicGrant` per public group (AllUsers first)."""
    permissions_by_group: dict[str, list[str]] = {}
    uri_by_group: dict[str, str] = {}
    for grant in grants or []:
        if not isinstance(grant, dict):
            continue
        grantee = grant.get("Grantee")
        if not isinstance(grantee, dict):
            continue
        group = public_group_for_uri(grantee.get("URI"))
        permission = grant.get("Permission")
        if group is None or not isinstance(permission, str):
            continue
        uri_by_group.setdefault(group, str(grantee["URI"]))
        held = permissions_by_group.setdefault(group, [])
        if permission not in held:
            held.append(permission)

    return [
        _public_grant(group, uri_by_group[group], permissions_by_group[group], resource_kind)
        for group in _PUBLIC_GROUPS
        if group in permissions_by_group
    ]


def _ordered(permissions: list[str]) -> tuple[str, ...]:
    known = [p for p in PERMISSION_ORDER if p in permissions]
    unknown = sorted(p for p in permissions if p not in PERMISSION_ORDER)
    return tuple(known + unknown)


def _public_grant(
    group: str, uri: str, permissions: list[str], resource_kind: ResourceKind
) -> PublicGrant:
    ordered = _ordered(permissions)
    meanings = _MEANING[resource_kind]
    described = ", ".join(f"{p} ({meanings[p]})" if p in meanings else p for p in ordered)
    audience = _PUBLIC_GROUPS[group]
    reason = f"{resource_kind} ACL grants {described} to {audience} ({group} group)"
    return PublicGrant(
        group=group,
        grantee_uri=uri,
        audience=audience,
        permissions=ordered,
        resource_kind=resource_kind,
        reason=reason,
    )
