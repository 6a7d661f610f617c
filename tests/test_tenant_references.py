"""References stay inside the tenant (issue 7), fix dry runs check their inputs, one AWS account
connected twice is shown once (issue 8 items 15, 16), and the admin's AWS account form (item 18).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import references
from accounts.models import AwsAccount
from accounts.verification import verify_account
from storage.models import Bucket
from storage.remediation import FixError, plan_fix, run_fix
from storage.tasks import verified_accounts
from tests.scan_helpers import full_scan

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.scan_fixtures"]


def _row(account: Any, name: str, region: str = "us-east-1") -> Bucket:
    return Bucket.objects.create(account=account, name=name, region=region)


def _log_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
    )


# --- the one helper ---------------------------------------------------------------------------


def test_require_tenant_bucket(verified_account: Any, verified_account_b: Any) -> None:
    mine = _row(verified_account, "a-data")
    _row(verified_account_b, "b-logs")
    tenant_a = verified_account.tenant
    assert references.require_tenant_bucket(tenant_a, "a-data") == mine
    with pytest.raises(references.ForeignReference, match="not one of this tenant's buckets"):
        references.require_tenant_bucket(tenant_a, "b-logs")
    with pytest.raises(references.ForeignReference):  # unknown: refused unless the caller checks
        references.require_tenant_bucket(tenant_a, "never-listed")
    assert references.require_tenant_bucket(tenant_a, "never-listed", allow_unlisted=True) is None
    with pytest.raises(references.ForeignReference):  # another tenant's: refused even so
        references.require_tenant_bucket(tenant_a, "b-logs", allow_unlisted=True)


def test_kms_key_arn_of_a_foreign_aws_account_is_refused(verified_account: Any) -> None:
    own = f"arn:aws:kms:us-east-1:{verified_account.verified_account_id}:key/abc"
    assert references.require_tenant_kms_key(verified_account, own) == own
    assert references.require_tenant_kms_key(verified_account, "alias/mine") == "alias/mine"
    with pytest.raises(references.ForeignReference, match="not one of this tenant's"):
        references.require_tenant_kms_key(
            verified_account, "arn:aws:kms:us-east-1:999999999999:key/theirs"
        )


# --- access-logging dry run -------------------------------------------------------------------


def test_access_logging_dry_run_refuses_another_tenants_log_bucket(
    verified_account: Any, verified_account_b: Any, make_bucket: Any
) -> None:
    # Both buckets exist for AWS (moto shares one backend) and the B bucket accepts logs: only
    # the tenant boundary refuses it.
    make_bucket("a-data")
    make_bucket("b-logs", policy=_log_policy("b-logs"))
    source = _row(verified_account, "a-data")
    _row(verified_account_b, "b-logs")
    with pytest.raises(FixError, match="b-logs is not one of this tenant's buckets"):
        run_fix(source, "access_logging", {"target_bucket": "b-logs"}, dry_run=True)


def test_access_logging_dry_run_in_the_portal_page_names_the_refusal(
    personas: Any, verified_account: Any, verified_account_b: Any, make_bucket: Any
) -> None:
    make_bucket("a-data")
    make_bucket("b-logs", policy=_log_policy("b-logs"))
    source = _row(verified_account, "a-data")
    _row(verified_account_b, "b-logs")
    url = reverse("storage:fix", args=[source.pk, "access_logging"])
    response = personas.client_for("alice").post(
        url, {"target_bucket": "b-logs", "target_prefix": "{bucket}/"}
    )
    assert response.status_code < 500
    assert "b-logs is not one of this tenant&#x27;s buckets" in response.content.decode()
    assert "LoggingEnabled" not in boto3.client("s3").get_bucket_logging(Bucket="a-data")


def test_access_logging_dry_run_checks_the_target_exists(
    verified_account: Any, make_bucket: Any
) -> None:
    make_bucket("a-data")
    source = _row(verified_account, "a-data")
    _row(verified_account, "deleted-logs")  # listed once, gone from S3 since
    with pytest.raises(FixError, match="does not exist"):
        plan_fix(source, "access_logging", {"target_bucket": "deleted-logs"})


def test_access_logging_dry_run_says_the_target_cannot_receive_logs(
    verified_account: Any, make_bucket: Any
) -> None:
    make_bucket("a-data")
    make_bucket("closed-logs")
    source = _row(verified_account, "a-data")
    _row(verified_account, "closed-logs")
    with pytest.raises(FixError, match="does not let the S3 logging service write"):
        plan_fix(source, "access_logging", {"target_bucket": "closed-logs"})


def test_access_logging_to_a_bucket_with_a_logging_policy_works(
    verified_account: Any, make_bucket: Any
) -> None:
    make_bucket("a-data")
    make_bucket("open-logs", policy=_log_policy("open-logs"))
    source = _row(verified_account, "a-data")
    _row(verified_account, "open-logs")
    outcome = run_fix(source, "access_logging", {"target_bucket": "open-logs"}, dry_run=False)
    assert outcome.applied
    logging = boto3.client("s3").get_bucket_logging(Bucket="a-data")["LoggingEnabled"]
    assert logging["TargetBucket"] == "open-logs"


def test_default_encryption_dry_run_checks_the_kms_key(
    verified_account: Any, make_bucket: Any
) -> None:
    make_bucket("a-data")
    source = _row(verified_account, "a-data")
    with pytest.raises(FixError, match="There is no KMS key alias/missing"):
        plan_fix(source, "default_encryption", {"kms_key_id": "alias/missing"})
    kms = boto3.client("kms", region_name="us-east-1")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key_id)
    with pytest.raises(FixError, match="Disabled"):
        plan_fix(source, "default_encryption", {"kms_key_id": key_id})
    with pytest.raises(FixError, match="not one of this tenant"):
        plan_fix(
            source,
            "default_encryption",
            {"kms_key_id": "arn:aws:kms:us-east-1:999999999999:key/theirs"},
        )


# --- file spaces --------------------------------------------------------------------------------


def test_file_space_cannot_name_another_tenants_bucket(
    verified_account: Any, verified_account_b: Any
) -> None:
    from storage.files.models import FileSpace

    _row(verified_account_b, "b-files")
    space = FileSpace(
        tenant=verified_account.tenant,
        account=verified_account,
        bucket="b-files",
        prefix="portal",
        backup_account=verified_account,
        backup_bucket="a-backup",
    )
    with pytest.raises(ValidationError) as caught:
        space.full_clean()
    assert "not one of this tenant's buckets" in str(caught.value.message_dict["bucket"])
    space.backup_account = verified_account_b
    with pytest.raises(ValidationError) as caught:
        space.full_clean()
    assert (
        "Choose one of this tenant's AWS accounts." in caught.value.message_dict["backup_account"]
    )


# --- one AWS account connected twice ----------------------------------------------------------


def test_same_aws_account_twice_warns_and_is_shown_once(
    personas: Any, verified_account: Any, s3: Any
) -> None:
    s3.create_bucket(Bucket="shared-bucket")
    twin = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="prod-again",
        access_key_id="AKIATWINTWINTWINTWIN",
        secret_access_key="twin-secret-value-123",
    )
    assert verify_account(verified_account).warnings == ()
    result = verify_account(twin)
    assert result.ok
    assert result.warnings and "also connected as 'prod'" in result.warnings[0]
    assert list(verified_accounts()) == [verified_account]  # the twin is not scanned
    full_scan(verified_account)
    full_scan(twin)  # even a scan of the twin by hand does not show twice
    page = personas.client_for("alice").get(reverse("storage:bucket_list")).content.decode()
    assert page.count(">shared-bucket<") == 1


def test_verify_page_shows_the_duplicate_warning(personas: Any, verified_account: Any) -> None:
    twin = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="prod-again",
        access_key_id="AKIATWINTWINTWINTWIN",
        secret_access_key="twin-secret-value-123",
    )
    response = personas.client_for("alice").post(
        reverse("portal:verify_account", args=[twin.pk]), follow=True
    )
    assert "also connected as &#x27;prod&#x27;" in response.content.decode()


# --- Admin > Add AWS account -----------------------------------------------------------------


def test_admin_add_form_is_tidy_for_a_one_tenant_admin(personas: Any) -> None:
    page = personas.client_for("alice").get(reverse("admin:accounts_awsaccount_add"))
    body = page.content.decode()
    assert body.lower().count("secret access key") == 1  # the field, not also its state
    assert "s3portal/aws_account_form.js" in body  # shows the chosen method's fields only
    assert f'<option value="{personas.tenant_a.pk}" selected>' in body  # her only tenant


def test_admin_save_verifies_and_reports(personas: Any, moto: None) -> None:
    client = personas.client_for("alice")
    data = {
        "tenant": personas.tenant_a.pk,
        "name": "checked",
        "auth_method": "access_key",
        "access_key_id": "AKIACHECKCHECKCHECK1",
        "secret_access_key": "checked-secret-value",
        "role_session_name": "s3portal",
        "default_region": "us-east-1",
        "endpoint_url": "",
    }
    response = client.post(reverse("admin:accounts_awsaccount_add"), data, follow=True)
    assert "checked: verified as arn:aws:" in response.content.decode().lower()
    account = AwsAccount.objects.get(name="checked")
    assert account.is_verified and account.last_verified_at <= timezone.now()
