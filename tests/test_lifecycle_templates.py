"""Templates: the hardening guide's starting points per tenant, editing, "apply to buckets..."
(per-bucket plans, then one Celery task per bucket, run here through the real task call), the
results page, idempotent tasks; scoping for every persona; the admin, scoped."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.lifecycle_helpers import BUCKET

pytest_plugins = ["tests.lifecycle_fixtures"]

THEIRS = {
    "ID": "theirs",
    "Filter": {"Prefix": "tmp/"},
    "Status": "Enabled",
    "Expiration": {"Days": 30},
}


def test_starters_are_valid_and_per_tenant(personas: Any) -> None:
    from lifecycle.models import LifecycleTemplate
    from lifecycle.starters import STARTERS, ensure_starters
    from lifecycle.validation import validate_configuration

    for starter in STARTERS:
        assert validate_configuration({"Rules": starter["rules"]}) == []
    ensure_starters(personas.tenant_a)
    ensure_starters(personas.tenant_a)
    assert LifecycleTemplate.objects.filter(tenant=personas.tenant_a).count() == 2
    hardening = LifecycleTemplate.objects.get(tenant=personas.tenant_a, builtin="hardening")
    tiers = hardening.rules[0]["Transitions"]
    assert [(t["Days"], t["StorageClass"]) for t in tiers] == [
        (30, "STANDARD_IA"),
        (90, "GLACIER"),
        (365, "DEEP_ARCHIVE"),
    ]
    assert hardening.rules[1]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": 90,
        "NewerNoncurrentVersions": 3,
    }


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("alice", 200),
        ("oscar", 200),
        ("bob", 200),
        ("vera", 200),
        ("carol", 200),
        ("stranger", 403),
    ],
)
def test_template_list_per_persona(personas: Any, persona: str, status: int) -> None:
    page = personas.client_for(persona).get(reverse("lifecycle:template_list"))
    assert page.status_code == status
    if persona == "carol":
        assert "Tenant B" in page.content.decode()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("alice", 200), ("oscar", 200), ("bob", 403), ("vera", 403), ("carol", 404)],
)
def test_template_pages_per_persona(personas: Any, persona: str, status: int) -> None:
    from lifecycle.models import LifecycleTemplate
    from lifecycle.starters import ensure_starters

    ensure_starters(personas.tenant_a)
    template = LifecycleTemplate.objects.filter(tenant=personas.tenant_a).first()
    client = personas.client_for(persona)
    for name in ("lifecycle:template_edit", "lifecycle:template_apply"):
        assert client.get(reverse(name, args=[template.pk])).status_code == status, name


def test_edit_template_validates(personas: Any) -> None:
    from audit.models import AuditEvent
    from lifecycle.models import LifecycleTemplate

    client = personas.client_for("oscar")
    bad = client.post(
        reverse("lifecycle:template_new"),
        {
            "name": "Mine",
            "rules": '[{"ID": "s3portal-x", "Filter": {}, "Status": "Enabled",'
            ' "Expiration": {"Days": 0}}]',
        },
    )
    assert bad.status_code == 400 and "greater than 0" in bad.content.decode()
    good = client.post(
        reverse("lifecycle:template_new"),
        {
            "name": "Mine",
            "rules": '[{"ID": "s3portal-x", "Filter": {}, "Status": "Enabled",'
            ' "Expiration": {"Days": 3}}]',
        },
    )
    assert good.status_code == 302
    assert LifecycleTemplate.objects.get(name="Mine").tenant == personas.tenant_a
    assert AuditEvent.objects.filter(action="lifecycle.template.create").count() == 1


def test_apply_to_buckets_plans_then_tasks(
    lc_bucket: Any,
    s3: Any,
    personas: Any,
    django_capture_on_commit_callbacks: Any,
    account_a: Any,
) -> None:
    from lifecycle.models import LifecycleTemplate, TemplateApplication
    from lifecycle.starters import ensure_starters
    from lifecycle.tasks import apply_template_to_bucket
    from storage.models import Bucket

    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [THEIRS]})
    s3.create_bucket(Bucket="lc-second")
    second = Bucket.objects.create(account=account_a, name="lc-second", region="us-east-1")
    ensure_starters(personas.tenant_a)
    template = LifecycleTemplate.objects.get(tenant=personas.tenant_a, builtin="hardening")
    client = personas.client_for("oscar")
    url = reverse("lifecycle:template_apply", args=[template.pk])
    plans = client.post(url, {"bucket": [lc_bucket.pk, second.pk]})
    assert plans.status_code == 200
    digests = {p["bucket"].pk: p["plan"].digest() for p in plans.context["plans"]}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        done = client.post(
            url,
            {
                "bucket": [lc_bucket.pk, second.pk],
                "apply": "1",
                **{f"digest-{k}": v for k, v in digests.items()},
            },
        )
    assert done.status_code == 302
    apps = list(TemplateApplication.objects.order_by("bucket__name"))
    assert [a.status for a in apps] == ["pending", "pending"]
    assert len(callbacks) == 1
    # Run the tasks through Celery's own call path (what the worker does).
    for app in apps:
        result = apply_template_to_bucket.apply(args=[app.pk]).get()
        assert result["status"] == "applied"
    # Idempotent: a second delivery does nothing.
    assert apply_template_to_bucket.apply(args=[apps[0].pk]).get()["skipped"] == "applied"
    ids = [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]]
    assert ids[0] == "theirs" and "s3portal-tiering" in ids
    page = client.get(reverse("lifecycle:template_batch", args=[apps[0].batch]))
    assert page.status_code == 200 and page.content.decode().count("Applied") >= 2
    assert (
        personas.client_for("carol")
        .get(reverse("lifecycle:template_batch", args=[apps[0].batch]))
        .status_code
        == 404
    )


def test_task_refuses_when_bucket_changed(lc_bucket: Any, s3: Any, personas: Any) -> None:
    from lifecycle.models import LifecycleTemplate, TemplateApplication
    from lifecycle.starters import ensure_starters
    from lifecycle.tasks import apply_template_to_bucket

    ensure_starters(personas.tenant_a)
    template = LifecycleTemplate.objects.get(tenant=personas.tenant_a, builtin="log-bucket")
    app = TemplateApplication.objects.create(
        template=template, bucket=lc_bucket, batch="b1", expected_digest="stale"
    )
    assert apply_template_to_bucket.apply(args=[app.pk]).get()["status"] == "refused"
    app.refresh_from_db()
    assert "changed since your dry run" in app.message
    assert apply_template_to_bucket.apply(args=[999999]).get()["skipped"] == "gone"


def test_task_aws_failure_is_reported(lc_bucket: Any, personas: Any, aws_faults: Any) -> None:
    from lifecycle.models import LifecycleTemplate, TemplateApplication
    from lifecycle.starters import ensure_starters
    from lifecycle.tasks import apply_template_to_bucket

    ensure_starters(personas.tenant_a)
    template = LifecycleTemplate.objects.get(tenant=personas.tenant_a, builtin="log-bucket")
    app = TemplateApplication.objects.create(template=template, bucket=lc_bucket, batch="b2")
    aws_faults.fail("GetBucketLifecycleConfiguration", "AccessDenied", bucket=BUCKET)
    assert apply_template_to_bucket.apply(args=[app.pk]).get()["status"] == "failed"
    app.refresh_from_db()
    assert "s3:GetLifecycleConfiguration" in app.message


def test_apply_refuses_other_tenants_bucket(lc_bucket_b: Any, personas: Any) -> None:
    from lifecycle.models import LifecycleTemplate
    from lifecycle.starters import ensure_starters

    ensure_starters(personas.tenant_a)
    template = LifecycleTemplate.objects.filter(tenant=personas.tenant_a).first()
    url = reverse("lifecycle:template_apply", args=[template.pk])
    response = personas.client_for("alice").post(url, {"bucket": [lc_bucket_b.pk]})
    assert response.status_code == 404


# --- admin -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"), [("alice", 200), ("oscar", 200), ("bob", 403), ("root", 200)]
)
def test_admin_changelists(lc_bucket: Any, personas: Any, persona: str, status: int) -> None:
    client = personas.client_for(persona)
    for model in ("lifecyclerule", "lifecycleversion", "lifecycletemplate"):
        response = client.get(f"/admin/lifecycle/{model}/")
        assert response.status_code in ((status,) if status == 200 else (302, 403)), model


def test_admin_bucket_choices_are_scoped(lc_bucket: Any, lc_bucket_b: Any, personas: Any) -> None:
    client = personas.client_for("oscar")
    page = client.get("/admin/lifecycle/lifecyclerule/add/")
    assert page.status_code == 200
    choices = list(page.context["adminform"].form.fields["bucket"].queryset)
    assert choices == [lc_bucket]
    # Posting another tenant's bucket is refused by the form.
    response = client.post(
        "/admin/lifecycle/lifecyclerule/add/",
        {
            "bucket": lc_bucket_b.pk,
            "rule_id": "s3portal-x",
            "position": 0,
            "enabled": "on",
            "filter_kind": "all",
            "tags": "[]",
            "transitions": "[]",
            "noncurrent_transitions": "[]",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    page = personas.client_for("alice").get("/admin/lifecycle/lifecycletemplate/add/")
    assert list(page.context["adminform"].form.fields["tenant"].queryset) == [personas.tenant_a]


def test_admin_plan_and_apply_action(lc_bucket: Any, s3: Any, personas: Any) -> None:
    from lifecycle.models import LifecycleRule

    row = LifecycleRule.objects.create(
        bucket=lc_bucket,
        rule_id="s3portal-admin",
        filter_kind="prefix",
        prefix="a/",
        expiration_days=5,
    )
    client = personas.client_for("oscar")
    url = "/admin/lifecycle/lifecyclerule/"
    confirm = client.post(url, {"action": "plan_and_apply", "_selected_action": [row.pk]})
    assert confirm.status_code == 200
    assert "PutBucketLifecycleConfiguration" in confirm.content.decode()
    digest = confirm.context["plans"][0]["plan"].digest()
    done = client.post(
        url,
        {
            "action": "plan_and_apply",
            "_selected_action": [row.pk],
            "apply": "1",
            f"digest-{lc_bucket.pk}": digest,
        },
    )
    assert done.status_code == 302
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rules[0]["ID"] == "s3portal-admin" and rules[0]["Expiration"] == {"Days": 5}


def test_admin_rollback_action(lc_bucket: Any, s3: Any, personas: Any) -> None:
    from lifecycle.models import LifecycleVersion
    from lifecycle.plan import run_rules

    rule = {"ID": "s3portal-a", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 7}}
    run_rules(lc_bucket, [rule], dry_run=False)
    run_rules(lc_bucket, [dict(rule, Expiration={"Days": 9})], dry_run=False)
    first = LifecycleVersion.objects.get(bucket=lc_bucket, number=1)
    client = personas.client_for("oscar")
    url = "/admin/lifecycle/lifecycleversion/"
    confirm = client.post(url, {"action": "roll_back", "_selected_action": [first.pk]})
    digest = confirm.context["plans"][0]["plan"].digest()
    client.post(
        url,
        {
            "action": "roll_back",
            "_selected_action": [first.pk],
            "apply": "1",
            f"digest-{lc_bucket.pk}": digest,
        },
    )
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"][0]["Expiration"] == {
        "Days": 7
    }
    # Another tenant's admin cannot even see the version.
    assert personas.client_for("carol").get(f"{url}{first.pk}/change/").status_code == 404
