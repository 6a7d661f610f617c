"""manage.py lifecycle: show / plan / apply / history / rollback / apply-template, exit codes
0 (done or nothing to change), 1 (refused), 2 (AWS failed, reason on one stderr line)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.lifecycle_helpers import BUCKET

pytest_plugins = ["tests.lifecycle_fixtures"]

MINE = {
    "ID": "s3portal-logs",
    "Filter": {"Prefix": "logs/"},
    "Status": "Enabled",
    "Expiration": {"Days": 7},
}
THEIRS = {
    "ID": "theirs",
    "Filter": {"Prefix": "tmp/"},
    "Status": "Enabled",
    "Expiration": {"Days": 30},
}


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("lifecycle", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue()


@pytest.fixture
def rules_file(tmp_path: Path) -> Any:
    def write(rules: Any) -> str:
        path = tmp_path / "rules.json"
        path.write_text(json.dumps(rules))
        return str(path)

    return write


@pytest.fixture
def bucket(lc_bucket: Any, s3: Any) -> Any:
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [THEIRS]})
    return lc_bucket


def test_show_json_in_s3_shape_with_owners(bucket: Any, aws_faults: Any) -> None:
    aws_faults.respond(
        "GetBucketLifecycleConfiguration",
        {"Rules": [THEIRS, MINE], "TransitionDefaultMinimumObjectSize": "varies_by_storage_class"},
        bucket=BUCKET,
    )
    code, out = run("show", BUCKET, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["Rules"] == [THEIRS, MINE]
    assert data["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    assert data["Owners"] == {"theirs": "foreign", "s3portal-logs": "portal"}
    code, out = run("show", BUCKET)
    assert "foreign  theirs: objects under tmp/ expire 30 days after creation" in out
    assert "TransitionDefaultMinimumObjectSize: varies_by_storage_class" in out


def test_plan_changes_nothing_then_apply_writes(
    bucket: Any, s3: Any, s3_calls: Any, rules_file: Any
) -> None:
    path = rules_file([MINE])
    code, out = run("plan", BUCKET, "--rules-file", path)
    assert code == 0 and out.startswith("DRY RUN: Add s3portal-logs.")
    assert '"operation": "PutBucketLifecycleConfiguration"' in out
    assert s3_calls.writes == []
    code, out = run("apply", BUCKET, "--rules-file", path)
    assert code == 0 and "Applied" in out
    assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]] == [
        "theirs",
        "s3portal-logs",
    ]
    code, out = run("apply", BUCKET, "--rules-file", path)
    assert code == 0 and "Nothing to change" in out


def test_foreign_id_in_file_is_refused_with_1(bucket: Any, rules_file: Any, s3_calls: Any) -> None:
    code, message = run("apply", BUCKET, "--rules-file", rules_file([dict(THEIRS)]))
    assert code == 1
    assert "foreign rule" in message and "adopt it first" in message
    assert s3_calls.writes == []


def test_invalid_rules_are_refused_with_1(bucket: Any, rules_file: Any) -> None:
    bad = dict(MINE, Expiration={"Date": "2030-01-01T09:00:00Z"})
    code, message = run("apply", BUCKET, "--rules-file", rules_file([bad]))
    assert code == 1 and "midnight UTC" in message
    code, message = run("apply", BUCKET, "--rules-file", rules_file({"not": "a list"}))
    assert code == 1 and "JSON list of rules" in message


def test_aws_failure_exits_2_on_one_line(
    bucket: Any, rules_file: Any, aws_faults: Any, s3_calls: Any
) -> None:
    aws_faults.fail("GetBucketLifecycleConfiguration", "AccessDenied", bucket=BUCKET)
    code, message = run("apply", BUCKET, "--rules-file", rules_file([MINE]))
    assert code == 2
    assert "\n" not in message
    assert "s3:GetLifecycleConfiguration" in message and "Nothing was changed." in message
    assert s3_calls.writes == []


def test_write_failure_exits_2(bucket: Any, rules_file: Any, aws_faults: Any) -> None:
    aws_faults.fail("PutBucketLifecycleConfiguration", "AccessDenied", bucket=BUCKET)
    code, message = run("apply", BUCKET, "--rules-file", rules_file([MINE]))
    assert code == 2 and "s3:PutLifecycleConfiguration" in message


def test_history_and_rollback(bucket: Any, s3: Any, rules_file: Any) -> None:
    run("apply", BUCKET, "--rules-file", rules_file([MINE]))
    run("apply", BUCKET, "--rules-file", rules_file([dict(MINE, Expiration={"Days": 9})]))
    code, out = run("history", BUCKET)
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 3
    assert "observed" in lines[0] and "apply" in lines[2]
    code, out = run("rollback", BUCKET, "--to", "2", "--dry-run")
    assert code == 0 and out.startswith("DRY RUN: Change s3portal-logs")
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"][1]["Expiration"] == {
        "Days": 9
    }
    code, _ = run("rollback", BUCKET, "--to", "2")
    assert code == 0
    assert s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"][1]["Expiration"] == {
        "Days": 7
    }
    code, message = run("rollback", BUCKET, "--to", "99")
    assert code == 1 and "no version 99" in message


def test_apply_template(bucket: Any, s3: Any, personas: Any) -> None:
    from lifecycle.models import LifecycleTemplate
    from lifecycle.starters import ensure_starters

    ensure_starters(personas.tenant_a)
    template = LifecycleTemplate.objects.get(tenant=personas.tenant_a, builtin="log-bucket")
    code, out = run("apply-template", template.name, BUCKET, "--dry-run")
    assert code == 0 and f"{BUCKET}: would apply" in out
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]) == 1
    code, out = run("apply-template", str(template.pk), BUCKET)
    assert code == 0 and f"{BUCKET}: applied" in out
    ids = [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]]
    assert ids == ["theirs", "s3portal-log-retention", "s3portal-abort-uploads"]
    code, out = run("apply-template", template.name, BUCKET)
    assert code == 0 and "nothing to change" in out
