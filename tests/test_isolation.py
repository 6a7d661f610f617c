"""Every URL and every admin model, proven generically (after NetBox's ViewTestCases).

Each URL the portal serves is listed in URL_RULES with the rule it must follow; a URL that is not
listed fails `test_every_url_has_a_rule`, so a new view is covered the day it is added. For each:
an anonymous visitor is sent to the login page, another tenant's object is 404, and a role below
the view's minimum is 403. Every admin model is tenant-scoped (or explicitly platform-only), lists
no other tenant's rows and answers 404 for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

import audit
from accounts.admin_base import TenantScopedAdmin
from accounts.models import AwsAccount, Invitation, Membership
from lifecycle.models import (
    LifecycleRule,
    LifecycleTemplate,
    LifecycleVersion,
    TemplateApplication,
)
from storage.browser.models import BrowserSettings, ObjectExpiry, ShareLink
from storage.cost.models import BucketUsage, CostRollup, SizingJob, TenantPricing
from storage.credentials.models import CredentialSettings, IssuedCredential, KeyRotation
from storage.files.models import FileSpace, StoredFile
from storage.models import Bucket, BucketSnapshot, Finding, ScanRun

pytestmark = pytest.mark.django_db

World = dict[str, Any]  # "a"/"b" -> {"account": ..., "bucket": ..., ...}
Kwargs = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    """What one URL must do. `kwargs` builds its URL arguments from one tenant's objects."""

    method: str = "get"
    kwargs: Kwargs | None = None  # None: not about one object
    weaker: tuple[str, ...] = ()  # personas of tenant A whose role is too weak: 403
    public: bool = False
    superuser_only: bool = False
    demo_only: bool = False  # off (404 for everybody) unless DEBUG and the demo flag are set
    data: Kwargs | None = None  # POST data naming an object (e.g. the account to scan)

    @property
    def about_an_object(self) -> bool:
        return self.kwargs is not None or self.data is not None


def _pk(name: str) -> Kwargs:
    return lambda objs: {"pk": objs[name].pk}


def _rule(objs: dict[str, Any]) -> dict[str, Any]:
    return {"pk": objs["bucket"].pk, "rule_pk": objs["lifecycle_rule"].pk}


def _version(objs: dict[str, Any]) -> dict[str, Any]:
    return {"pk": objs["bucket"].pk, "number": objs["lifecycle_version"].number}


URL_RULES: dict[str, Rule] = {
    "login": Rule(public=True),
    "password_reset": Rule(public=True),
    "password_reset_done": Rule(public=True),
    "password_reset_confirm": Rule(public=True),
    "password_reset_complete": Rule(public=True),
    "portal:invitation_accept": Rule(public=True),  # the token is the proof; tested on its own
    "portal:members": Rule(weaker=("oscar", "bob", "vera")),
    "portal:invitation_revoke": Rule(
        method="post", kwargs=_pk("invitation"), weaker=("oscar", "bob", "vera")
    ),
    # a user's own security settings: nothing of a tenant in them
    "portal:account_security": Rule(),
    "portal:otp_verify": Rule(),
    "portal:otp_setup": Rule(),
    "portal:otp_recovery_codes": Rule(method="post"),
    "portal:otp_remove": Rule(method="post"),
    "portal:set_time_zone": Rule(method="post"),
    "logout": Rule(public=True, method="post"),
    "healthz": Rule(public=True),
    "portal:dashboard": Rule(),
    "portal:switch_tenant": Rule(method="post"),
    "portal:verify_account": Rule(
        method="post", kwargs=_pk("account"), weaker=("oscar", "bob", "vera")
    ),
    "storage:bucket_list": Rule(),
    "storage:bucket_detail": Rule(kwargs=_pk("bucket")),
    "storage:snapshot_detail": Rule(
        kwargs=lambda o: {"pk": o["bucket"].pk, "snapshot_pk": o["snapshot"].pk}
    ),
    "storage:rescan": Rule(method="post", kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "storage:fix": Rule(
        kwargs=lambda o: {"pk": o["bucket"].pk, "action": "enable-versioning"},
        weaker=("bob", "vera"),
    ),
    "storage:finding_list": Rule(),
    "storage:suppress_finding": Rule(method="post", kwargs=_pk("finding"), weaker=("bob", "vera")),
    "storage:unsuppress_finding": Rule(
        method="post", kwargs=_pk("finding"), weaker=("bob", "vera")
    ),
    "demo_mail": Rule(demo_only=True),
    "storage:scan_list": Rule(),
    "storage:start_scan": Rule(
        method="post", data=lambda o: {"account": str(o["account"].pk)}, weaker=("bob", "vera")
    ),
    "storage:scan_detail": Rule(kwargs=_pk("run")),
    "storage:scan_status": Rule(kwargs=_pk("run")),
    "storage:public_buckets": Rule(superuser_only=True),
    "lifecycle:rules": Rule(kwargs=_pk("bucket")),
    "lifecycle:rule_new": Rule(kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "lifecycle:rule_edit": Rule(kwargs=_rule, weaker=("bob", "vera")),
    "lifecycle:rule_delete": Rule(kwargs=_rule, weaker=("bob", "vera")),
    "lifecycle:apply": Rule(kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "lifecycle:adopt": Rule(method="post", kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "lifecycle:accept_drift": Rule(method="post", kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "lifecycle:version": Rule(kwargs=_version),
    "lifecycle:rollback": Rule(kwargs=_version, weaker=("bob", "vera")),
    "lifecycle:template_list": Rule(),
    "lifecycle:template_new": Rule(weaker=("bob", "vera")),
    "lifecycle:template_edit": Rule(kwargs=_pk("template"), weaker=("bob", "vera")),
    "lifecycle:template_apply": Rule(kwargs=_pk("template"), weaker=("bob", "vera")),
    "lifecycle:template_batch": Rule(kwargs=lambda o: {"batch": o["application"].batch}),
    "credentials:list": Rule(weaker=("vera",)),
    "credentials:issue": Rule(method="post", weaker=("vera",)),
    "credentials:detail": Rule(kwargs=_pk("credential"), weaker=("vera",)),
    "credentials:rotate": Rule(method="post", kwargs=_pk("credential"), weaker=("vera",)),
    "credentials:revoke": Rule(method="post", kwargs=_pk("credential"), weaker=("vera",)),
    # the object browser: operators and admins; members and viewers only where the tenant
    # allows it (off by default)
    "browser:objects": Rule(kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "browser:object": Rule(kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "browser:download": Rule(kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "browser:expiries": Rule(kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "browser:upload": Rule(method="post", kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "browser:create_folder": Rule(method="post", kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "browser:bulk_expiry": Rule(method="post", kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "browser:delete": Rule(method="post", kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "browser:restore": Rule(method="post", kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "browser:share": Rule(method="post", kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "browser:expiry": Rule(method="post", kwargs=_pk("bucket"), weaker=("bob", "vera")),
    "cost:tenant": Rule(),
    "cost:tenant_csv": Rule(),
    "cost:trend_csv": Rule(),
    "cost:measure": Rule(method="post", kwargs=_pk("account"), weaker=("bob", "vera")),
    "cost:platform": Rule(superuser_only=True),
    "cost:platform_csv": Rule(superuser_only=True),
    "files:list": Rule(),
    "files:upload": Rule(method="post", weaker=("vera",)),
    "files:download": Rule(kwargs=_pk("file"), weaker=("vera",)),
    "files:delete": Rule(method="post", kwargs=_pk("file"), weaker=("vera",)),
    "files:expiry": Rule(method="post", kwargs=_pk("file"), weaker=("vera",)),
}

# Admin models that are not tenant-owned: platform superusers only.
PLATFORM_ONLY_ADMIN = {
    "auth.user",
    "auth.group",
    "axes.accessattempt",
    "axes.accessfailurelog",
    "axes.accesslog",
    "otp_static.staticdevice",
    "otp_totp.totpdevice",
}


def _walk(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, str]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # the admin is covered model by model below
            ns = entry.namespace or ""
            yield from _walk(entry.url_patterns, f"{namespace}{ns}:" if ns else namespace)
        elif isinstance(entry, URLPattern):
            yield (f"{namespace}{entry.name}" if entry.name else "", str(entry.pattern))


@pytest.fixture
def world(personas: Any) -> World:
    def objects_of(tenant: Any, owner: Any, suffix: str) -> dict[str, Any]:
        account = AwsAccount.objects.create(tenant=tenant, name=f"acct-{suffix}")
        bucket = Bucket.objects.create(account=account, name=f"bucket-{suffix}")
        run = ScanRun.objects.create(account=account)
        snapshot = BucketSnapshot.objects.create(bucket=bucket, run=run)
        finding = Finding.objects.create(
            bucket=bucket, check_name="versioning", severity="low", detail="off"
        )
        space = FileSpace.objects.create(
            tenant=tenant,
            account=account,
            bucket=f"files-{suffix}",
            backup_account=account,
            backup_bucket=f"backup-{suffix}",
        )
        stored = StoredFile.objects.create(
            tenant=tenant,
            owner=owner,
            original_name="a.txt",
            account=account,
            region="us-east-1",
            bucket=space.bucket,
            key=f"users/{owner.pk}/a.txt",
            size=1,
            content_type="text/plain",
            sha256="0" * 64,
        )
        event = audit.record(owner, tenant, f"test.{suffix}", account)
        invitation = Invitation.objects.create(
            tenant=tenant,
            email=f"new-{suffix}@example.com",
            token_hash=suffix * 64,
            expires_at=timezone.now() + timedelta(days=1),
        )
        template = LifecycleTemplate.objects.create(tenant=tenant, name=f"tpl-{suffix}")
        lifecycle = {
            "lifecycle_rule": LifecycleRule.objects.create(bucket=bucket, rule_id="s3portal-x"),
            "lifecycle_version": LifecycleVersion.objects.create(
                bucket=bucket, number=1, fingerprint="f", reason="apply"
            ),
            "template": template,
            "application": TemplateApplication.objects.create(
                template=template, bucket=bucket, batch=f"batch-{suffix}"
            ),
        }
        credential = IssuedCredential.objects.create(
            tenant=tenant,
            account=account,
            kind="permanent",
            access="read_only",
            buckets=[bucket.name],
            policy={},
            access_key_id=f"AKIA{suffix.upper() * 16}",
            issuer=owner,
        )
        browser = {
            "browser_settings": BrowserSettings.objects.create(tenant=tenant),
            "object_expiry": ObjectExpiry.objects.create(
                bucket=bucket, key="a.txt", expected_etag="e", expires_on=date(2027, 1, 1)
            ),
            "share_link": ShareLink.objects.create(
                bucket=bucket, key="a.txt", expires_at=timezone.now(), lifetime_seconds=60
            ),
        }
        today = date(2026, 12, 1)
        cost = {
            "usage": BucketUsage.objects.create(
                bucket=bucket, day=today, storage_class="STANDARD", source="listing"
            ),
            "rollup": CostRollup.objects.create(
                day=today,
                tenant=tenant,
                account=account,
                bucket=bucket,
                region="us-east-1",
                storage_class="STANDARD",
                monthly_cost_usd=0,
                table_date="2026-11-01",
                usage_day=today,
            ),
            "pricing": TenantPricing.objects.create(tenant=tenant),
            "sizing_job": SizingJob.objects.create(bucket=bucket, day=today),
        }
        return {
            **lifecycle,
            **cost,
            **browser,
            "credential": credential,
            "credential_settings": CredentialSettings.objects.create(tenant=tenant),
            "rotation": KeyRotation.objects.create(
                credential=credential,
                old_access_key_id="AKIAOLD",
                new_access_key_id="AKIANEW",
                grace_until=timezone.now(),
            ),
            "tenant": tenant,
            "membership": Membership.objects.filter(tenant=tenant).first(),
            "account": account,
            "bucket": bucket,
            "run": run,
            "snapshot": snapshot,
            "finding": finding,
            "space": space,
            "file": stored,
            "event": event,
            "invitation": invitation,
        }

    return {
        "a": objects_of(personas.tenant_a, personas.bob, "a"),
        "b": objects_of(personas.tenant_b, personas.carol, "b"),
    }


def _call(client: Client, rule: Rule, objs: dict[str, Any], name: str) -> Any:
    url = reverse(name, kwargs=rule.kwargs(objs) if rule.kwargs else None)
    return getattr(client, rule.method)(url, rule.data(objs) if rule.data else {})


def test_every_url_has_a_rule() -> None:
    served = {name for name, _ in _walk(get_resolver().url_patterns)}
    assert "" not in served, "every URL pattern needs a name so it can be given a rule"
    missing = sorted(served - URL_RULES.keys())
    assert not missing, f"add these URLs to URL_RULES in {__file__}: {missing}"
    stale = sorted(URL_RULES.keys() - served)
    assert not stale, f"URL_RULES lists URLs that no longer exist: {stale}"


@pytest.mark.parametrize("name", sorted(n for n, r in URL_RULES.items() if r.demo_only))
@pytest.mark.parametrize("persona", ["alice", "root"])
def test_demo_pages_do_not_exist_outside_the_demo(
    personas: Any, world: World, name: str, persona: str
) -> None:
    response = _call(personas.client_for(persona), URL_RULES[name], world["a"], name)
    assert response.status_code == 404


@pytest.mark.parametrize("name", sorted(n for n, r in URL_RULES.items() if not r.public))
def test_anonymous_is_sent_to_login(world: World, name: str) -> None:
    rule = URL_RULES[name]
    response = _call(Client(), rule, world["a"], name)
    assert response.status_code == 302, (name, response.status_code)
    assert response["Location"].startswith(reverse("login")), response["Location"]


@pytest.mark.parametrize("name", sorted(n for n, r in URL_RULES.items() if r.about_an_object))
@pytest.mark.parametrize(("persona", "tenant"), [("alice", "b"), ("carol", "a")])
def test_another_tenants_object_is_404(
    personas: Any, world: World, name: str, persona: str, tenant: str
) -> None:
    rule = URL_RULES[name]
    response = _call(personas.client_for(persona), rule, world[tenant], name)
    assert response.status_code == 404, (name, persona, response.status_code)


@pytest.mark.parametrize(
    ("name", "persona"),
    sorted((n, p) for n, r in URL_RULES.items() for p in r.weaker),
)
def test_a_weaker_role_is_403(personas: Any, world: World, name: str, persona: str) -> None:
    rule = URL_RULES[name]
    response = _call(personas.client_for(persona), rule, world["a"], name)
    assert response.status_code == 403, (name, persona, response.status_code)


@pytest.mark.parametrize("name", sorted(n for n, r in URL_RULES.items() if r.superuser_only))
@pytest.mark.parametrize("persona", ["alice", "oscar", "carol"])
def test_platform_pages_refuse_tenant_people(
    personas: Any, world: World, name: str, persona: str
) -> None:
    rule = URL_RULES[name]
    response = _call(personas.client_for(persona), rule, world["a"], name)
    assert response.status_code == 403


# --------------------------------------------------------------------------- the admin


def _scoped_admins() -> list[tuple[str, Any]]:
    return sorted(
        (model._meta.label_lower, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, TenantScopedAdmin)
    )


def _instance(world: World, tenant: str, model: type) -> Any:
    for value in world[tenant].values():
        if type(value) is model:
            return value
    return None


def test_every_admin_model_is_tenant_scoped_or_platform_only() -> None:
    unscoped = sorted(
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, TenantScopedAdmin)
    )
    assert set(unscoped) <= PLATFORM_ONLY_ADMIN, unscoped


@pytest.mark.parametrize("label", [label for label, _ in _scoped_admins()])
def test_admin_hides_and_404s_another_tenants_rows(personas: Any, world: World, label: str) -> None:
    model_admin = dict(_scoped_admins())[label]
    model = model_admin.model
    theirs = _instance(world, "b", model)
    mine = _instance(world, "a", model)
    assert theirs is not None and mine is not None, (
        f"add an instance of {label} per tenant to the world fixture in {__file__}"
    )
    opts = model._meta
    client = personas.client_for("alice")
    listing = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert listing.status_code == 200, (label, listing.status_code)
    shown = {obj.pk for obj in listing.context["cl"].result_list}
    assert mine.pk in shown and theirs.pk not in shown, (label, shown)
    change = client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[theirs.pk])
    )
    assert change.status_code == 404, (label, change.status_code)
    history = client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[theirs.pk])
    )
    assert history.status_code == 404, (label, history.status_code)


@pytest.mark.parametrize("label", [label for label, _ in _scoped_admins()])
@pytest.mark.parametrize("persona", ["bob", "vera", "stranger"])
def test_admin_is_closed_to_members_and_viewers(
    personas: Any, world: World, label: str, persona: str
) -> None:
    opts = dict(_scoped_admins())[label].model._meta
    response = personas.client_for(persona).get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("label", sorted(PLATFORM_ONLY_ADMIN))
@pytest.mark.parametrize("persona", ["alice", "oscar"])
def test_platform_admin_models_refuse_tenant_people(
    personas: Any, label: str, persona: str
) -> None:
    app_label, model_name = label.split(".")
    client = personas.client_for(persona)
    for url in (
        reverse(f"admin:{app_label}_{model_name}_changelist"),
        reverse(f"admin:{app_label}_{model_name}_change", args=[1]),
        reverse(f"admin:{app_label}_{model_name}_change", args=[999999]),
    ):
        assert client.get(url).status_code == 403, url
