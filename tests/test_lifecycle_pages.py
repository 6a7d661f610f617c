"""Lifecycle pages for every persona: other tenant 404, member/viewer 403 on writes; the editor's
inline validation, prefill contract, dry run and apply; conflicts, adoption, rollback, drift."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.urls import reverse

from tests.lifecycle_helpers import BUCKET

pytest_plugins = ["tests.lifecycle_fixtures"]

FOREIGN = {
    "ID": "theirs",
    "Filter": {"Prefix": "tmp/"},
    "Status": "Enabled",
    "Expiration": {"Days": 30},
}


def rule_post(**overrides: Any) -> dict[str, str]:
    data = {
        "rule_id": "s3portal-logs",
        "enabled": "on",
        "prefix": "logs/",
        "tags": "temp=true",
        "expiration": "days",
        "expiration_days": "7",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def with_foreign(lc_bucket: Any, s3: Any) -> Any:
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [FOREIGN]}
    )
    return lc_bucket


READ_PAGES = ["lifecycle:rules"]
WRITE_PAGES = ["lifecycle:rule_new", "lifecycle:apply"]


@pytest.mark.parametrize("name", READ_PAGES + WRITE_PAGES)
@pytest.mark.parametrize(
    ("persona", "read_status", "write_status"),
    [
        ("alice", 200, 200),
        ("oscar", 200, 200),
        ("bob", 200, 403),
        ("vera", 200, 403),
        ("carol", 404, 404),
        ("stranger", 404, 404),
        ("root", 200, 200),
    ],
)
def test_pages_per_persona(
    with_foreign: Any, personas: Any, name: str, persona: str, read_status: int, write_status: int
) -> None:
    response = personas.client_for(persona).get(reverse(name, args=[with_foreign.pk]))
    assert response.status_code == (read_status if name in READ_PAGES else write_status)


@pytest.mark.parametrize(("persona", "status"), [("bob", 403), ("vera", 403), ("carol", 404)])
def test_writes_refused_for_weak_and_foreign(
    with_foreign: Any, personas: Any, s3_calls: Any, persona: str, status: int
) -> None:
    client = personas.client_for(persona)
    pk = with_foreign.pk
    posts = [
        (reverse("lifecycle:rule_new", args=[pk]), {**rule_post(), "apply": "1"}),
        (reverse("lifecycle:adopt", args=[pk]), {"rule_id": "theirs"}),
        (reverse("lifecycle:accept_drift", args=[pk]), {}),
        (reverse("lifecycle:apply", args=[pk]), {"apply": "1"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == status, url
    assert s3_calls.writes == []


def test_rules_page_shows_owner_and_words(with_foreign: Any, personas: Any) -> None:
    from lifecycle.plan import run_rules

    run_rules(
        with_foreign,
        [
            {
                "ID": "s3portal-a",
                "Filter": {"Prefix": "logs/"},
                "Status": "Enabled",
                "Expiration": {"Days": 7},
            }
        ],
        dry_run=False,
    )
    page = personas.client_for("vera").get(reverse("lifecycle:rules", args=[with_foreign.pk]))
    text = page.content.decode()
    assert "objects under tmp/ expire 30 days after creation" in text
    assert 'data-rule="theirs"' in text and 'class="badge foreign"' in text
    assert 'class="badge portal"' in text
    assert "Add a rule" not in text  # viewers read only
    assert "Roll back" not in text


def test_rules_page_says_why_it_cannot_read(lc_bucket: Any, personas: Any, aws_faults: Any) -> None:
    aws_faults.fail("GetBucketLifecycleConfiguration", "AccessDenied", bucket=BUCKET)
    page = personas.client_for("oscar").get(reverse("lifecycle:rules", args=[lc_bucket.pk]))
    assert page.status_code == 200
    assert (
        "lack the permission s3:GetLifecycleConfiguration on bucket lc-data"
        in page.content.decode()
    )
    assert "Add a rule" not in page.content.decode()


def test_editor_dry_run_then_apply(
    with_foreign: Any, personas: Any, s3: Any, s3_calls: Any
) -> None:
    from audit.models import AuditEvent

    client = personas.client_for("oscar")
    url = reverse("lifecycle:rule_new", args=[with_foreign.pk])
    dry = client.post(url, rule_post())
    assert dry.status_code == 200
    assert s3_calls.writes == []
    text = dry.content.decode()
    assert "PutBucketLifecycleConfiguration" in text
    assert 'class="state-added" data-rule="s3portal-logs"' in text
    assert 'class="state-foreign" data-rule="theirs"' in text
    digest = dry.context["plan"].digest()
    done = client.post(url, {**rule_post(note="weekly logs"), "apply": "1", "digest": digest})
    assert done.status_code == 302
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert [r["ID"] for r in rules] == ["theirs", "s3portal-logs"]
    assert rules[1]["Filter"] == {
        "And": {"Prefix": "logs/", "Tags": [{"Key": "temp", "Value": "true"}]}
    }
    assert AuditEvent.objects.filter(action="lifecycle.apply", actor=personas.oscar).count() == 1
    from lifecycle.models import LifecycleRule

    assert LifecycleRule.objects.get(rule_id="s3portal-logs").note == "weekly logs"


def test_editor_refuses_apply_when_bucket_changed(
    with_foreign: Any, personas: Any, s3: Any
) -> None:
    client = personas.client_for("alice")
    url = reverse("lifecycle:rule_new", args=[with_foreign.pk])
    digest = client.post(url, rule_post()).context["plan"].digest()
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [dict(FOREIGN, Expiration={"Days": 31})]}
    )
    refused = client.post(url, {**rule_post(), "apply": "1", "digest": digest})
    assert refused.status_code == 409
    assert "changed since your dry run: review again" in refused.content.decode()
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]) == 1


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"expiration": "days", "expiration_days": "0"}, "greater than 0"),
        ({"transitions": "10 STANDARD_IA", "expiration": "none"}, "at least 30 days old"),
        ({"expiration": "marker"}, "cannot be combined with a tag filter"),
        ({"rule_id": "theirs"}, "foreign rule"),
        ({"rule_id": "mine"}, "start with"),
        ({"transitions": "soon GLACIER"}, "not a number of days or a date"),
    ],
)
def test_editor_inline_validation(
    with_foreign: Any, personas: Any, s3_calls: Any, overrides: dict[str, str], words: str
) -> None:
    client = personas.client_for("oscar")
    page = client.post(
        reverse("lifecycle:rule_new", args=[with_foreign.pk]), rule_post(**overrides)
    )
    assert page.status_code == 400
    assert words in page.content.decode()
    assert s3_calls.writes == []


def test_prefill_contract(lc_bucket: Any, personas: Any) -> None:
    """The cost pages link here: ?rule=<URL-encoded JSON of one rule in S3's shape>."""
    rule = {
        "ID": "cheaper-logs",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
    }
    url = reverse("lifecycle:rule_new", args=[lc_bucket.pk]) + "?rule=" + quote(json.dumps(rule))
    page = personas.client_for("oscar").get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["rule_id"] == "s3portal-cheaper-logs"
    assert form.initial["prefix"] == "logs/"
    assert form.initial["transitions"] == "30 STANDARD_IA"


def test_prefill_with_bad_json_is_a_400(lc_bucket: Any, personas: Any) -> None:
    url = reverse("lifecycle:rule_new", args=[lc_bucket.pk]) + "?rule=%7Bnot-json"
    page = personas.client_for("oscar").get(url)
    assert page.status_code == 400
    assert "not valid JSON" in page.content.decode()


def test_edit_and_remove(with_foreign: Any, personas: Any, s3: Any) -> None:
    from lifecycle.models import LifecycleRule

    client = personas.client_for("oscar")
    new_url = reverse("lifecycle:rule_new", args=[with_foreign.pk])
    client.post(new_url, {**rule_post(), "apply": "1"})
    row = LifecycleRule.objects.get(bucket=with_foreign)
    edit_url = reverse("lifecycle:rule_edit", args=[with_foreign.pk, row.pk])
    assert client.get(edit_url).context["form"].initial["expiration_days"] == 7
    client.post(edit_url, {**rule_post(expiration_days="9"), "apply": "1"})
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rules[1]["Expiration"] == {"Days": 9}
    remove_url = reverse("lifecycle:rule_delete", args=[with_foreign.pk, row.pk])
    dry = client.get(remove_url)
    assert "remove s3portal-logs" in dry.content.decode().lower()
    client.post(remove_url, {"apply": "1", "digest": dry.context["plan"].digest()})
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"] == [FOREIGN]
    assert not LifecycleRule.objects.filter(bucket=with_foreign).exists()


def test_other_tenants_rule_is_404(with_foreign: Any, lc_bucket_b: Any, personas: Any) -> None:
    from lifecycle.models import LifecycleRule

    row = LifecycleRule.objects.create(bucket=lc_bucket_b, rule_id="s3portal-b")
    client = personas.client_for("alice")
    assert (
        client.get(reverse("lifecycle:rule_edit", args=[lc_bucket_b.pk, row.pk])).status_code == 404
    )
    # Alice's own bucket with carol's rule id in the path: 404 too.
    assert (
        client.get(reverse("lifecycle:rule_edit", args=[with_foreign.pk, row.pk])).status_code
        == 404
    )


def test_adopt_from_the_page(with_foreign: Any, personas: Any) -> None:
    from lifecycle.models import LifecycleRule

    client = personas.client_for("oscar")
    response = client.post(
        reverse("lifecycle:adopt", args=[with_foreign.pk]), {"rule_id": "theirs"}
    )
    assert response.status_code == 302
    assert LifecycleRule.objects.filter(bucket=with_foreign, rule_id="theirs").exists()


def test_conflicts_are_explained(lc_bucket: Any, s3: Any, personas: Any) -> None:
    rules = [
        {
            "ID": "short",
            "Filter": {"Prefix": "logs/"},
            "Status": "Enabled",
            "Expiration": {"Days": 7},
        },
        {
            "ID": "archive",
            "Filter": {"Prefix": "logs/old/"},
            "Status": "Enabled",
            "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
        },
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": rules})
    page = personas.client_for("vera").get(reverse("lifecycle:rules", args=[lc_bucket.pk]))
    text = page.content.decode()
    assert "Expiration beats transition" in text
    assert "Rule archive can never fire" in text
    assert "never fires" in text


def test_rollback_page(lc_bucket: Any, personas: Any, s3: Any) -> None:
    from lifecycle.plan import run_rules

    rule = {"ID": "s3portal-a", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 7}}
    run_rules(lc_bucket, [rule], dry_run=False)
    run_rules(lc_bucket, [dict(rule, Expiration={"Days": 9})], dry_run=False)
    client = personas.client_for("alice")
    url = reverse("lifecycle:rollback", args=[lc_bucket.pk, 1])
    dry = client.get(url)
    assert dry.status_code == 200 and "Change s3portal-a" in dry.content.decode()
    client.post(url, {"apply": "1", "digest": dry.context["plan"].digest(), "foreign": "0"})
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"][0]["Expiration"] == {
        "Days": 7
    }
    assert personas.client_for("vera").get(url).status_code == 403
    assert personas.client_for("carol").get(url).status_code == 404


def test_bucket_page_has_the_lifecycle_section(with_foreign: Any, personas: Any) -> None:
    from lifecycle.plan import run_rules

    run_rules(
        with_foreign,
        [
            {
                "ID": "s3portal-a",
                "Filter": {},
                "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            }
        ],
        dry_run=False,
    )
    page = personas.client_for("vera").get(reverse("storage:bucket_detail", args=[with_foreign.pk]))
    text = page.content.decode()
    assert 'id="lifecycle"' in text
    assert "unfinished multipart uploads are aborted after 7 days" in text
    assert "objects under tmp/ expire 30 days after creation" in text
