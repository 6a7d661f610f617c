"""Tenant scoping carried by the structure: declared tenant paths, scoped querysets, and a
TenantScopedAdmin that scopes every relation whatever its path and refuses what it cannot scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.test import RequestFactory

from accounts.admin_base import TenantScopedAdmin, check_relations, scoped_choices
from accounts.models import AwsAccount, Role, Tenant
from accounts.scoping import tenant_id_of, tenant_path_of
from storage.models import Bucket, BucketSnapshot, Finding, ScanRun


@pytest.fixture
def two_buckets(personas: Any) -> tuple[Bucket, Bucket]:
    acct_a = AwsAccount.objects.create(tenant=personas.tenant_a, name="a", access_key_id="")
    acct_b = AwsAccount.objects.create(tenant=personas.tenant_b, name="b", access_key_id="")
    return (
        Bucket.objects.create(account=acct_a, name="bucket-a"),
        Bucket.objects.create(account=acct_b, name="bucket-b"),
    )


def test_every_tenant_owned_model_declares_its_path() -> None:
    assert tenant_path_of(Tenant) == ""
    assert tenant_path_of(AwsAccount) == "tenant"
    assert tenant_path_of(Bucket) == "account__tenant"
    assert tenant_path_of(BucketSnapshot) == "bucket__account__tenant"
    assert tenant_path_of(Finding) == "tenant"  # denormalized for index-only lists


def test_a_model_without_a_path_cannot_be_scoped() -> None:
    from django.contrib.auth.models import Group

    with pytest.raises(ImproperlyConfigured, match="not tenant-owned"):
        tenant_path_of(Group)


def test_for_user_follows_the_path_and_the_role(personas: Any, two_buckets: Any) -> None:
    a, b = two_buckets
    assert list(Bucket.objects.for_user(personas.alice)) == [a]
    assert list(Bucket.objects.for_user(personas.carol)) == [b]
    assert set(Bucket.objects.for_user(personas.root)) == {a, b}
    assert list(Bucket.objects.for_user(personas.stranger)) == []
    # vera is a viewer: she sees the bucket but not at operator level
    assert list(Bucket.objects.for_user(personas.vera)) == [a]
    assert list(Bucket.objects.for_user(personas.vera, Role.OPERATOR)) == []
    assert list(Bucket.objects.for_user(personas.oscar, Role.OPERATOR)) == [a]
    assert list(Tenant.objects.for_user(personas.bob)) == [personas.tenant_a]


def test_for_user_fails_closed_for_anonymous_and_inactive(personas: Any, two_buckets: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert list(Bucket.objects.for_user(AnonymousUser())) == []
    assert list(Bucket.objects.for_user(None)) == []
    personas.alice.is_active = False
    assert list(Bucket.objects.for_user(personas.alice)) == []


def test_for_tenant(personas: Any, two_buckets: Any) -> None:
    a, b = two_buckets
    assert list(Bucket.objects.for_tenant(personas.tenant_b)) == [b]
    assert list(ScanRun.objects.for_tenant(personas.tenant_a.pk)) == []
    assert tenant_id_of(a) == personas.tenant_a.pk
    assert tenant_id_of(personas.tenant_b) == personas.tenant_b.pk


def test_admin_choices_are_scoped_whatever_the_path(personas: Any, two_buckets: Any) -> None:
    """A foreign key two hops from the tenant (Finding.bucket) lists only the user's buckets."""
    a, _ = two_buckets
    assert list(scoped_choices(Bucket, personas.alice, Role.OPERATOR)) == [a]
    field = Finding._meta.get_field("bucket")
    request = RequestFactory().get("/")
    request.user = personas.alice
    model_admin = admin.site._registry[Finding]
    formfield = model_admin.formfield_for_foreignkey(field, request)
    assert list(formfield.queryset) == [a]
    # users in dropdowns: only members of the user's tenants
    users = set(scoped_choices(type(personas.alice), personas.alice, Role.ADMIN))
    assert personas.carol not in users and personas.bob in users


def test_an_unscopable_relation_refuses_to_register() -> None:
    class Widget(models.Model):
        tenant_path = "tenant"
        tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
        group = models.ForeignKey("auth.Group", on_delete=models.CASCADE)

        class Meta:
            app_label = "accounts"

        def __str__(self) -> str:
            return "widget"

    with pytest.raises(ImproperlyConfigured, match="neither tenant-owned"):
        check_relations(Widget)
    with pytest.raises(ImproperlyConfigured):
        TenantScopedAdmin(Widget, admin.AdminSite())


def test_roles_are_read_once_per_request(personas: Any, django_assert_num_queries: Any) -> None:
    from accounts.access import user_role

    user = type(personas.alice).objects.get(pk=personas.alice.pk)
    with django_assert_num_queries(1):
        assert user_role(user, personas.tenant_a) == Role.ADMIN
        assert user_role(user, personas.tenant_b) is None
        assert user_role(user, personas.tenant_a.pk) == Role.ADMIN


def test_a_finding_takes_its_tenant_and_rank_from_its_bucket(two_buckets: Any) -> None:
    a, b = two_buckets
    one = Finding.objects.create(bucket=b, check_name="x", severity="high", detail="d")
    (two,) = Finding.objects.bulk_create(
        [Finding(bucket=a, check_name="y", severity="low", detail="d")]
    )
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.tenant_id, one.severity_rank) == (b.account.tenant_id, 4)
    assert (two.tenant_id, two.severity_rank) == (a.account.tenant_id, 2)
    one.severity = "medium"
    one.save(update_fields=["severity"])
    one.refresh_from_db()
    assert one.severity_rank == 3
