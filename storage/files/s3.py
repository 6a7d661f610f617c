"""Clients and exact S3 operations on the files' objects (no database writes, no audit).

Clients come from accounts.aws (the one AWS seam). Deletes name one exact object (and version):
nothing here ever works by prefix. Failures a person can act on become FilesError.
"""

from __future__ import annotations

from botocore.client import BaseClient as S3Client  # no type stubs for botocore here

from accounts import aws
from accounts.errors import AWS_ERRORS, describe_aws_error, error_code
from accounts.models import AwsAccount

from .errors import FilesError
from .models import BackupState, StoredFile


def s3_client(account: AwsAccount, region: str) -> S3Client:
    return aws.client(account, "s3", region=region or None)


def primary_client(stored: StoredFile) -> S3Client:
    return s3_client(stored.account, stored.region)


def backup_client(stored: StoredFile) -> S3Client:
    assert stored.backup_account is not None
    return s3_client(stored.backup_account, stored.backup_region)


def check_bucket(account: AwsAccount, bucket: str, region: str = "") -> str:
    """HeadBucket with the account's credentials; the bucket's region, or FilesError."""
    try:
        response = s3_client(account, region).head_bucket(Bucket=bucket)
    except AWS_ERRORS as exc:
        code = error_code(exc)
        if code in {"404", "NoSuchBucket", "NotFound"}:
            message = f"bucket {bucket!r} does not exist (as seen by account {account.name!r})"
        elif code in {"403", "AccessDenied", "Forbidden"}:
            message = (
                f"the credentials of account {account.name!r} lack s3:ListBucket on bucket "
                f"{bucket!r} (HeadBucket was refused)"
            )
        elif code in {"301", "PermanentRedirect"}:
            message = f"bucket {bucket!r} is in another region: set its region explicitly"
        else:
            message = describe_aws_error(
                exc, account_name=account.name, operation="s3:ListBucket", resource=bucket
            )
        raise FilesError(message) from exc
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return str(response.get("BucketRegion") or headers.get("x-amz-bucket-region") or region)


def delete_exact(client: S3Client, bucket: str, key: str, version_id: str) -> None:
    """Delete exactly that object (that version on versioned buckets), nothing by prefix."""
    kwargs = {"Bucket": bucket, "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    client.delete_object(**kwargs)


def s3_failure(exc: Exception, account: AwsAccount, operation: str, resource: str) -> FilesError:
    return FilesError(
        describe_aws_error(exc, account_name=account.name, operation=operation, resource=resource),
        status=502,
    )


def delete_backup_object(stored: StoredFile) -> None:
    """Delete the file's backup copy (that exact version), if one was made."""
    if stored.backup_state == BackupState.COPIED and stored.backup_key and stored.backup_account:
        delete_exact(
            backup_client(stored), stored.backup_bucket, stored.backup_key, stored.backup_version_id
        )
