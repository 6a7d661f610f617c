"""Bucket pages, scan pages, fix pages and the admin, by persona: roles and tenant scoping.

alice: A admin · oscar: A operator · bob: A member · vera: A viewer · carol: B admin · root.
Another tenant's objects are 404; a too-weak role is 403.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from storage.models import Bucket, BucketSnapshot, Finding, ScanRun
from tests.conftest import FIXERS, TENANT_A
from tests.scan_helpers import ALL_FLAGS, full_scan, public_policy

pytestmark = pytest.mark.django_db
READERS_ONLY = ["bob", "vera"]


@pytest.fixture
def world(
    verified_account: Any, verified_account_b: Any, make_bucket: Any, s3: Any
) -> dict[str, Any]:
    """Tenant A: a public and a private bucket. Tenant B: one public bucket (same moto)."""
    make_bucket("a-public", acl="public-read")
    make_bucket("a-private", region="eu-west-1", pab=ALL_FLAGS)
    full_scan(verified_account)
    # Tenant B scans the same moto account; keep only its own bucket.
    make_bucket("b-secret", policy=public_policy("b-secret"))
    full_scan(verified_account_b, patterns=["b-secret"])
    return {
        "a_public": Bucket.objects.get(account=verified_account, name="a-public"),
        "a_private": Bucket.objects.get(account=verified_account, name="a-private"),
        "b_secret": Bucket.objects.get(account=verified_account_b, name="b-secret"),
        "run_a": ScanRun.objects.filter(account=verified_account).first(),
        "run_b": ScanRun.objects.filter(account=verified_account_b).first(),
    }


# --- bucket list ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", TENANT_A)
def test_bucket_list_shows_own_tenant_only(personas: Any, world: Any, persona: str) -> None:
    body = personas.client_for(persona).get(reverse("storage:bucket_list")).content.decode()
    assert "a-public" in body and "a-private" in body
    assert "b-secret" not in body
    assert "b-main" not in body  # tenant B's account name


def test_bucket_list_filters(personas: Any, world: Any) -> None:
    client = personas.client_for("vera")
    url = reverse("storage:bucket_list")

    def names(**params: str) -> set[str]:
        body = client.get(url, params).content.decode()
        return {n for n in ("a-public", "a-private") if f'data-bucket="{n}"' in body}

    assert names(public="yes") == {"a-public"}
    assert names(public="no") == {"a-private"}
    assert names(check="acl") == {"a-public"}
    assert names(check="public_access_block") == {"a-public"}
    assert names(check="versioning") == {"a-public", "a-private"}
    assert names(region="eu-west-1") == {"a-private"}
    assert names(account=str(world["a_public"].account_id)) == {"a-public", "a-private"}
    # Another tenant's account id filters to nothing, never to its buckets.
    assert names(account=str(world["b_secret"].account_id)) == set()
    assert names(severity="high") == {"a-public"}
    assert names(q="priv") == {"a-private"}


def test_bucket_list_scan_button_for_operators_only(personas: Any, world: Any) -> None:
    url = reverse("storage:bucket_list")
    assert "Scan now" in personas.client_for("oscar").get(url).content.decode()
    assert "Scan now" not in personas.client_for("vera").get(url).content.decode()


def test_anonymous_and_tenantless(client: Any, personas: Any, world: Any) -> None:
    assert client.get(reverse("storage:bucket_list")).status_code == 302
    assert personas.client_for("stranger").get(reverse("storage:bucket_list")).status_code == 403


def test_bucket_and_snapshot_pages_redirect_anonymous_to_login(client: Any, world: Any) -> None:
    bucket = world["a_public"]
    snapshot = BucketSnapshot.objects.filter(bucket=bucket).first()
    for url in (
        reverse("storage:bucket_detail", args=[bucket.pk]),
        reverse("storage:snapshot_detail", args=[bucket.pk, snapshot.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('login')}?next={url}"


# --- bucket detail --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", TENANT_A)
def test_bucket_detail_explains_the_verdict(personas: Any, world: Any, persona: str) -> None:
    response = personas.client_for(persona).get(
        reverse("storage:bucket_detail", args=[world["a_public"].pk])
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "This bucket is public" in body
    assert "bucket ACL grants READ (list the objects) to anyone (AllUsers group)" in body
    assert 'id="open-findings"' in body and 'id="snapshots"' in body
    if persona in FIXERS:
        assert 'id="fixes"' in body
        assert reverse("storage:fix", args=[world["a_public"].pk, "block_public_access"]) in body
    else:
        assert 'id="fixes"' not in body


def test_bucket_detail_not_public_in_words(personas: Any, world: Any) -> None:
    body = (
        personas.client_for("vera")
        .get(reverse("storage:bucket_detail", args=[world["a_private"].pk]))
        .content.decode()
    )
    assert "This bucket is not public" in body


@pytest.mark.parametrize("persona", TENANT_A)
def test_other_tenants_bucket_is_404(personas: Any, world: Any, persona: str) -> None:
    client = personas.client_for(persona)
    pk = world["b_secret"].pk
    snapshot = BucketSnapshot.objects.filter(bucket_id=pk).first()
    for url in (
        reverse("storage:bucket_detail", args=[pk]),
        reverse("storage:snapshot_detail", args=[pk, snapshot.pk]),
        reverse("storage:fix", args=[pk, "block_public_access"]),
        reverse("storage:scan_detail", args=[world["run_b"].pk]),
        reverse("storage:scan_status", args=[world["run_b"].pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("storage:rescan", args=[pk])).status_code == 404
    assert (
        client.post(
            reverse("storage:fix", args=[pk, "block_public_access"]), {"apply": "1"}
        ).status_code
        == 404
    )


def test_snapshot_page_shows_everything_seen_and_changes(
    personas: Any, world: Any, s3: Any
) -> None:
    bucket = world["a_public"]
    s3.put_bucket_acl(Bucket="a-public", ACL="private")
    full_scan(bucket.account)
    snapshot = bucket.snapshots.first()
    body = (
        personas.client_for("vera")
        .get(reverse("storage:snapshot_detail", args=[bucket.pk, snapshot.pk]))
        .content.decode()
    )
    assert "GetBucketAcl" in body  # raw data
    assert "Public exposure (effective verdict): fail → pass" in body
    other = BucketSnapshot.objects.filter(bucket=world["a_private"]).first()
    response = personas.client_for("vera").get(
        reverse("storage:snapshot_detail", args=[bucket.pk, other.pk])
    )
    assert response.status_code == 404  # a snapshot of another bucket through this URL


def test_findings_page(personas: Any, world: Any) -> None:
    body = (
        personas.client_for("vera")
        .get(reverse("storage:finding_list"), {"severity": "high"})
        .content.decode()
    )
    assert "a-public" in body and "b-secret" not in body
    body = personas.client_for("carol").get(reverse("storage:finding_list")).content.decode()
    assert "b-secret" in body and "a-public" not in body


# --- scans ----------------------------------------------------------------------------------


def test_scan_pages_and_live_status(personas: Any, world: Any) -> None:
    run = world["run_a"]
    client = personas.client_for("vera")
    body = client.get(reverse("storage:scan_detail", args=[run.pk])).content.decode()
    assert 'id="scan-live"' in body and "scan-progress.js" in body
    status = client.get(reverse("storage:scan_status", args=[run.pk])).json()
    assert status["status"] == "succeeded" and status["finished"] is True
    assert status["done"] == status["total"] == 2
    assert status["counts"]["public"] == 1
    body = client.get(reverse("storage:scan_list")).content.decode()
    assert f">{run.pk}<" in body and f">{world['run_b'].pk}<" not in body


@pytest.mark.parametrize(
    ("persona", "status"),
    [("alice", 302), ("oscar", 302), ("bob", 403), ("vera", 403), ("carol", 404)],
)
def test_start_scan_by_role(
    personas: Any,
    world: Any,
    persona: str,
    status: int,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from storage import tasks

    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(tasks.scan_account, "delay", lambda a, r: sent.append((a, r)))
    account = world["a_public"].account
    with django_capture_on_commit_callbacks(execute=True):
        response = personas.client_for(persona).post(
            reverse("storage:start_scan"), {"account": account.pk}
        )
    assert response.status_code == status
    if status == 302:
        run = ScanRun.objects.filter(account=account, status="queued").get()
        assert response["Location"] == reverse("storage:scan_detail", args=[run.pk])
        assert sent == [(account.pk, run.pk)]
        assert run.actor.username == persona
    else:
        assert sent == []


def test_start_scan_twice_does_not_queue_twice(personas: Any, world: Any, monkeypatch: Any) -> None:
    from storage import tasks

    monkeypatch.setattr(tasks.scan_account, "delay", lambda *a: None)
    client = personas.client_for("oscar")
    account = world["a_public"].account
    first = client.post(reverse("storage:start_scan"), {"account": account.pk})
    second = client.post(reverse("storage:start_scan"), {"account": account.pk})
    assert first["Location"] == second["Location"]
    assert ScanRun.objects.filter(account=account, status="queued").count() == 1


@pytest.mark.parametrize(("persona", "status"), [("oscar", 302), ("vera", 403), ("bob", 403)])
def test_rescan_by_role(personas: Any, world: Any, persona: str, status: int) -> None:
    bucket = world["a_public"]
    before = bucket.snapshots.count()
    response = personas.client_for(persona).post(reverse("storage:rescan", args=[bucket.pk]))
    assert response.status_code == status
    assert bucket.snapshots.count() == before + (1 if status == 302 else 0)


# --- fix pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", READERS_ONLY)
def test_members_and_viewers_cannot_fix(personas: Any, world: Any, persona: str, s3: Any) -> None:
    client = personas.client_for(persona)
    url = reverse("storage:fix", args=[world["a_public"].pk, "block_public_access"])
    assert client.get(url).status_code == 403
    assert client.post(url, {"apply": "1"}).status_code == 403
    with pytest.raises(Exception, match="NoSuchPublicAccessBlockConfiguration"):
        s3.get_public_access_block(Bucket="a-public")


@pytest.mark.parametrize("persona", FIXERS)
def test_fix_page_dry_run_then_apply(personas: Any, world: Any, persona: str, s3: Any) -> None:
    client = personas.client_for(persona)
    bucket = world["a_public"]
    url = reverse("storage:fix", args=[bucket.pk, "block_public_access"])
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert (
        "PutPublicAccessBlock" in body and 'id="plan-before"' in body and 'id="plan-after"' in body
    )
    digest = page.context["plan"].digest()
    with pytest.raises(Exception, match="NoSuchPublicAccessBlockConfiguration"):
        s3.get_public_access_block(Bucket="a-public")  # the dry run wrote nothing
    response = client.post(url, {"apply": "1", "digest": digest})
    assert response.status_code == 302
    assert response["Location"] == reverse("storage:bucket_detail", args=[bucket.pk])
    assert (
        s3.get_public_access_block(Bucket="a-public")["PublicAccessBlockConfiguration"] == ALL_FLAGS
    )
    bucket.refresh_from_db()
    assert bucket.is_public is False
    followed = client.get(response["Location"]).content.decode()
    assert (
        "All four Block Public Access settings are now on for a-public, and the rescan "
        "finds it not public now (it was public)." in followed
    )


def test_fix_apply_refuses_a_stale_dry_run(personas: Any, world: Any, s3: Any) -> None:
    client = personas.client_for("oscar")
    bucket = world["a_public"]
    url = reverse("storage:fix", args=[bucket.pk, "block_public_access"])
    digest = client.get(url).context["plan"].digest()
    s3.put_public_access_block(
        Bucket="a-public", PublicAccessBlockConfiguration={"BlockPublicPolicy": True}
    )
    response = client.post(url, {"apply": "1", "digest": digest})
    assert response.status_code == 409
    assert "changed since the dry run" in response.content.decode()
    conf = s3.get_public_access_block(Bucket="a-public")["PublicAccessBlockConfiguration"]
    assert conf["IgnorePublicAcls"] is False


def test_fix_with_parameters(personas: Any, world: Any, make_bucket: Any, s3: Any) -> None:
    make_bucket("a-logs", acl="log-delivery-write")
    full_scan(world["a_public"].account, patterns=["a-logs"])  # a log target is the tenant's own
    client = personas.client_for("oscar")
    bucket = world["a_public"]
    url = reverse("storage:fix", args=[bucket.pk, "access_logging"])
    page = client.get(url)
    assert page.status_code == 200 and page.context.get("plan") is None  # needs a target first
    preview = client.post(
        url, {"preview": "1", "target_bucket": "a-logs", "target_prefix": "{bucket}/"}
    )
    assert "PutBucketLogging" in preview.content.decode()
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket="a-public")
    digest = preview.context["plan"].digest()
    client.post(
        url,
        {"apply": "1", "digest": digest, "target_bucket": "a-logs", "target_prefix": "{bucket}/"},
    )
    assert s3.get_bucket_logging(Bucket="a-public")["LoggingEnabled"]["TargetPrefix"] == "a-public/"


def test_remove_statement_page_lists_the_public_statements(
    personas: Any, world: Any, s3: Any, make_bucket: Any
) -> None:
    make_bucket("a-policy", policy=public_policy("a-policy", sid="Everyone"))
    full_scan(world["a_public"].account, patterns=["a-policy"])
    bucket = Bucket.objects.get(name="a-policy")
    client = personas.client_for("oscar")
    detail = client.get(reverse("storage:bucket_detail", args=[bucket.pk])).content.decode()
    assert "Remove public statement &quot;Everyone&quot;" in detail
    page = client.get(
        reverse("storage:fix", args=[bucket.pk, "remove_public_statement"]),
        {"statement": "Everyone"},
    )
    assert "DeleteBucketPolicy" in page.content.decode()


def test_reset_object_acls_from_the_portal_runs_in_the_background(
    personas: Any, world: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from storage import tasks

    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.reset_object_acls, "delay", lambda *a: queued.append(a))
    bucket = world["a_public"]
    url = reverse("storage:fix", args=[bucket.pk, "reset_object_acls"])
    client = personas.client_for("oscar")
    assert "Examined 0 object(s)" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"apply": "1", "only": "docs/*\n*.pdf", "exclude": ""})
    assert response.status_code == 302
    assert queued == [(bucket.pk, ["docs/*", "*.pdf"], [], personas.oscar.pk)]


def test_unknown_fix_is_404(personas: Any, world: Any) -> None:
    url = reverse("storage:fix", args=[world["a_public"].pk, "delete_everything"])
    assert personas.client_for("oscar").get(url).status_code == 404


# --- platform view --------------------------------------------------------------------------


def test_cross_tenant_public_view_is_for_superusers(personas: Any, world: Any) -> None:
    url = reverse("storage:public_buckets")
    body = personas.client_for("root").get(url).content.decode()
    assert "a-public" in body and "b-secret" in body and "a-private" not in body
    assert "Tenant A" in body and "Tenant B" in body
    for persona in ("alice", "oscar", "vera", "carol"):
        assert personas.client_for(persona).get(url).status_code == 403


# --- admin ----------------------------------------------------------------------------------


ADMIN_MODELS = ["bucket", "finding", "scanrun", "bucketsnapshot"]


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_changelists_are_scoped(personas: Any, world: Any, model: str) -> None:
    url = reverse(f"admin:storage_{model}_changelist")
    a_body = personas.client_for("oscar").get(url).content.decode()
    b_body = personas.client_for("carol").get(url).content.decode()
    root_body = personas.client_for("root").get(url).content.decode()
    if model == "scanrun":
        assert "prod" in a_body and "b-main" not in a_body
        assert "b-main" in b_body and "prod" not in b_body
    else:
        assert "a-public" in a_body and "b-secret" not in a_body
        assert "b-secret" in b_body and "a-public" not in b_body
        assert "a-public" in root_body and "b-secret" in root_body
    for persona in READERS_ONLY:
        assert personas.client_for(persona).get(url).status_code in (302, 403)


def test_admin_objects_of_other_tenants_are_404(personas: Any, world: Any) -> None:
    client = personas.client_for("alice")
    bucket = world["b_secret"]
    assert client.get(reverse("admin:storage_bucket_change", args=[bucket.pk])).status_code == 404
    finding = Finding.objects.filter(bucket=bucket).first()
    assert client.get(reverse("admin:storage_finding_change", args=[finding.pk])).status_code == 404
    assert (
        client.get(reverse("admin:storage_scanrun_change", args=[world["run_b"].pk])).status_code
        == 404
    )
    own = client.get(reverse("admin:storage_bucket_change", args=[world["a_public"].pk]))
    assert own.status_code == 200


def test_admin_filters(personas: Any, world: Any) -> None:
    client = personas.client_for("oscar")
    url = reverse("admin:storage_bucket_changelist")
    body = client.get(url, {"exposure": "public"}).content.decode()
    assert "a-public" in body and "a-private" not in body
    body = client.get(url, {"failing": "acl"}).content.decode()
    assert "a-public" in body and "a-private" not in body
    body = client.get(url, {"region": "eu-west-1"}).content.decode()
    assert "a-private" in body and "a-public" not in body
    body = client.get(url).content.decode()
    # The account and tenant filters offer the user's own only.
    assert "b-main" not in body and "Tenant B" not in body
    findings = client.get(
        reverse("admin:storage_finding_changelist"), {"severity__exact": "high", "state": "open"}
    ).content.decode()
    assert "a-public" in findings


def test_admin_is_read_only(personas: Any, world: Any) -> None:
    client = personas.client_for("alice")
    assert client.get(reverse("admin:storage_bucket_add")).status_code == 403
    assert (
        client.post(reverse("admin:storage_bucket_delete", args=[world["a_public"].pk])).status_code
        == 403
    )


def test_admin_fix_action_dry_run_then_apply(personas: Any, world: Any, s3: Any) -> None:
    client = personas.client_for("oscar")
    url = reverse("admin:storage_bucket_changelist")
    bucket = world["a_public"]
    dry = client.post(url, {"action": "fix_block_public_access", "_selected_action": [bucket.pk]})
    assert dry.status_code == 200
    body = dry.content.decode()
    assert "PutPublicAccessBlock" in body and "Before" in body and "After" in body
    with pytest.raises(Exception, match="NoSuchPublicAccessBlockConfiguration"):
        s3.get_public_access_block(Bucket="a-public")
    digest = dry.context["plans"][0]["plan"].digest()
    applied = client.post(
        url,
        {
            "action": "fix_block_public_access",
            "_selected_action": [bucket.pk],
            "apply": "1",
            f"digest-{bucket.pk}": digest,
        },
    )
    assert applied.status_code == 302
    assert (
        s3.get_public_access_block(Bucket="a-public")["PublicAccessBlockConfiguration"] == ALL_FLAGS
    )
    bucket.refresh_from_db()
    assert bucket.is_public is False


def test_admin_fix_action_cannot_reach_other_tenants(personas: Any, world: Any, s3: Any) -> None:
    client = personas.client_for("oscar")
    url = reverse("admin:storage_bucket_changelist")
    other = world["b_secret"]
    client.post(url, {"action": "fix_tls_only", "_selected_action": [other.pk], "apply": "1"})
    policy = json.loads(s3.get_bucket_policy(Bucket="b-secret")["Policy"])
    assert len(policy["Statement"]) == 1  # untouched


def test_admin_fix_action_needs_operator(personas: Any, world: Any, s3: Any) -> None:
    from accounts.models import Membership, Role

    # vera as a tenant-A viewer cannot use the admin at all; make her an operator of B only.
    Membership.objects.create(user=personas.vera, tenant=personas.tenant_b, role=Role.OPERATOR)
    client = personas.client_for("vera")
    url = reverse("admin:storage_bucket_changelist")
    client.post(
        url,
        {
            "action": "fix_block_public_access",
            "_selected_action": [world["a_public"].pk],
            "apply": "1",
        },
    )
    with pytest.raises(Exception, match="NoSuchPublicAccessBlockConfiguration"):
        s3.get_public_access_block(Bucket="a-public")


def test_bucket_and_fix_pages_by_persona(personas: Any, world: Any) -> None:
    """The isolation helper: every persona's exact status on one tenant-A bucket."""
    pk = world["a_public"].pk
    personas.assert_statuses(
        reverse("storage:bucket_detail", args=[pk]),
        {"alice": 200, "oscar": 200, "bob": 200, "vera": 200, "carol": 404, "root": 200},
    )
    personas.assert_statuses(
        reverse("storage:fix", args=[pk, "enable_versioning"]),
        {"alice": 200, "oscar": 200, "bob": 403, "vera": 403, "carol": 404, "stranger": 404},
    )
