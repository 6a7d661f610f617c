"""Proof that each credential does exactly what it says.

Credentials are issued through the portal's pages against a moto_server that enforces IAM
(INITIAL_NO_AUTH_ACTION_COUNT: the set-up below runs in the unauthenticated window, then
/moto-api/reset-auth closes it). A plain boto3 client then runs the allow/deny matrix.

What moto enforces: the identity policy's actions and resources (bucket and object ARNs).
What it does not: condition keys (s3:prefix on ListBucket), permissions boundaries and STS
session policies. Those rows of the same matrix are checked by tests/policy_eval.py against
the policies the portal actually sent (identity policy AND boundary AND session policy).
"""

from __future__ import annotations

import io
import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AwsAccount
from storage.credentials import formats
from storage.credentials.issuing import ROLE_S3_ONLY_POLICY, Secret
from storage.credentials.models import IssuedCredential, Kind
from storage.models import Bucket
from tests.helpers_services import moto_server
from tests.policy_eval import BOUNDARIES, allowed

pytestmark = [pytest.mark.integration]

GRANTED = ["alpha-data", "beta-logs"]
OTHER = "gamma-other"  # the tenant's own bucket, not granted
KEYS = ["reports/a.txt", "private/b.txt"]
NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


@dataclass
class Server:
    endpoint: str
    admin_key: str
    admin_secret: str

    def admin(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.admin_key,
            aws_secret_access_key=self.admin_secret,
        )


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    env = {"INITIAL_NO_AUTH_ACTION_COUNT": "1000000", "AWS_EC2_METADATA_DISABLED": "true"}
    with moto_server(env) as endpoint:
        anon = {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "AKIASETUPSETUPSETUP0",
            "aws_secret_access_key": "setup",
        }
        iam = boto3.client("iam", **anon)
        s3 = boto3.client("s3", **anon)
        iam.create_user(UserName="portal-admin")
        iam.put_user_policy(
            UserName="portal-admin",
            PolicyName="all",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName="portal-admin")["AccessKey"]
        for bucket in [*GRANTED, OTHER]:
            s3.create_bucket(Bucket=bucket)
            for name in KEYS:
                s3.put_object(Bucket=bucket, Key=name, Body=b"x")
        # close the unauthenticated window: from now on every request is checked against IAM
        close = urllib.request.Request(  # noqa: S310 (the local emulator, http only)
            f"{endpoint}/moto-api/reset-auth",
            data=b"0",
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(close) as answer:  # noqa: S310
            assert json.loads(answer.read())["status"] == "ok"
        yield Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])


@pytest.fixture
def emulator_account(personas: Any, server: Server, aws_env: None) -> AwsAccount:
    from accounts import aws

    aws.clear_session_cache()
    account = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="emulator",
        access_key_id=server.admin_key,
        secret_access_key=server.admin_secret,
        endpoint_url=server.endpoint,
        verified_account_id="123456789012",
        last_verified_at=timezone.now(),
    )
    for name in [*GRANTED, OTHER]:
        Bucket.objects.create(account=account, name=name)
    return account


def issue_through_page(
    personas: Any, account: AwsAccount, level: str, prefixes: list[str], kind: str
) -> tuple[IssuedCredential, Secret]:
    response = personas.client_for("alice").post(
        "/credentials/issue/",
        {
            "account": str(account.pk),
            "buckets": "\n".join(GRANTED),
            "prefixes": "\n".join(prefixes),
            "access": level,
            "kind": kind,
            "duration": "1h",
            "purpose": "proof",
            "step": "create",
        },
    )
    assert response.status_code == 201, response.content.decode()[:2000]
    page = response.content.decode()
    values = dict(re.findall(r"(AWS_[A-Z_]+)=([^\s<]+)", page))
    credential = IssuedCredential.objects.order_by("-pk").first()
    assert credential is not None
    return credential, Secret(
        values["AWS_ACCESS_KEY_ID"],
        values["AWS_SECRET_ACCESS_KEY"],
        values.get("AWS_SESSION_TOKEN", ""),
    )


# --- the matrix ---


@dataclass
class Row:
    label: str
    action: str
    resource: str
    expected: bool
    call: Callable[[Any], Any]
    context: dict[str, str]
    emulator_can_prove: bool = True


def spec(level: str, prefixes: list[str]) -> Callable[[str, str, str | None], bool]:
    """What the credential is *meant* to allow, written from the access level, not the policy."""
    read = level in ("read_only", "read_write")
    write = level in ("write_only", "read_write")

    def in_scope(bucket: str, key: str) -> bool:
        return bucket in GRANTED and (not prefixes or any(key.startswith(p) for p in prefixes))

    def decide(op: str, bucket: str, key: str | None) -> bool:
        if op == "ListBucket":
            if not (read and bucket in GRANTED):
                return False
            return not prefixes or (key is not None and any(key.startswith(p) for p in prefixes))
        if op == "GetBucketLocation":
            return read and bucket in GRANTED
        if op in ("GetObject", "GetObjectTagging", "GetObjectAcl", "GetObjectLegalHold"):
            return read and in_scope(bucket, key or "")
        if op in ("PutObject", "CreateMultipartUpload", "ListParts", "AbortMultipartUpload"):
            return write and in_scope(bucket, key or "")
        if op == "DeleteObject":
            return level == "read_write" and in_scope(bucket, key or "")
        return False  # ListAllMyBuckets, bucket policies: never

    return decide


def matrix(level: str, prefixes: list[str], server: Server) -> list[Row]:
    decide = spec(level, prefixes)
    admin_s3 = server.admin("s3")
    rows: list[Row] = []
    for bucket in [*GRANTED, OTHER]:
        arn = f"arn:aws:s3:::{bucket}"
        for listing in ["reports/", "private/", None]:
            params: dict[str, str] = {"Bucket": bucket}
            context: dict[str, str] = {}
            if listing is not None:
                params["Prefix"] = listing
                context["s3:prefix"] = listing
            rows.append(
                Row(
                    f"ListBucket {bucket} prefix={listing}",
                    "s3:ListBucket",
                    arn,
                    decide("ListBucket", bucket, listing),
                    lambda c, p=params: c.list_objects_v2(**p),
                    context,
                    # moto ignores the s3:prefix condition: only the evaluator proves these
                    emulator_can_prove=not prefixes,
                )
            )
        rows.append(
            Row(
                f"GetBucketLocation {bucket}",
                "s3:GetBucketLocation",
                arn,
                decide("GetBucketLocation", bucket, None),
                lambda c, b=bucket: c.get_bucket_location(Bucket=b),
                {},
            )
        )
        for key in KEYS:
            obj = f"{arn}/{key}"
            for op, action, fn in [
                ("GetObject", "s3:GetObject", lambda c, b, k: c.get_object(Bucket=b, Key=k)),
                (
                    "GetObjectTagging",
                    "s3:GetObjectTagging",
                    lambda c, b, k: c.get_object_tagging(Bucket=b, Key=k),
                ),
                (
                    "GetObjectAcl",
                    "s3:GetObjectAcl",
                    lambda c, b, k: c.get_object_acl(Bucket=b, Key=k),
                ),
                (
                    "GetObjectLegalHold",
                    "s3:GetObjectLegalHold",
                    lambda c, b, k: c.get_object_legal_hold(Bucket=b, Key=k),
                ),
            ]:
                rows.append(
                    Row(
                        f"{op} {bucket}/{key}",
                        action,
                        obj,
                        decide(op, bucket, key),
                        lambda c, f=fn, b=bucket, k=key: f(c, b, k),
                        {},
                    )
                )
            new_key = key.replace(".txt", "-new.txt")
            new_obj = f"{arn}/{new_key}"
            rows.append(
                Row(
                    f"PutObject {bucket}/{new_key}",
                    "s3:PutObject",
                    new_obj,
                    decide("PutObject", bucket, new_key),
                    lambda c, b=bucket, k=new_key: c.put_object(Bucket=b, Key=k, Body=b"y"),
                    {},
                )
            )
            rows.append(
                Row(
                    f"CreateMultipartUpload {bucket}/{new_key}",
                    "s3:PutObject",
                    new_obj,
                    decide("CreateMultipartUpload", bucket, new_key),
                    lambda c, b=bucket, k=new_key: c.create_multipart_upload(Bucket=b, Key=k),
                    {},
                )
            )
            upload = admin_s3.create_multipart_upload(Bucket=bucket, Key=new_key)["UploadId"]
            rows.append(
                Row(
                    f"ListParts {bucket}/{new_key}",
                    "s3:ListMultipartUploadParts",
                    new_obj,
                    decide("ListParts", bucket, new_key),
                    lambda c, b=bucket, k=new_key, u=upload: c.list_parts(
                        Bucket=b, Key=k, UploadId=u
                    ),
                    {},
                )
            )
            rows.append(
                Row(
                    f"AbortMultipartUpload {bucket}/{new_key}",
                    "s3:AbortMultipartUpload",
                    new_obj,
                    decide("AbortMultipartUpload", bucket, new_key),
                    lambda c, b=bucket, k=new_key, u=upload: c.abort_multipart_upload(
                        Bucket=b, Key=k, UploadId=u
                    ),
                    {},
                )
            )
            rows.append(
                Row(
                    f"DeleteObject {bucket}/{new_key}",
                    "s3:DeleteObject",
                    new_obj,
                    decide("DeleteObject", bucket, new_key),
                    lambda c, b=bucket, k=new_key: c.delete_object(Bucket=b, Key=k),
                    {},
                )
            )
        rows.append(
            Row(
                f"PutBucketPolicy {bucket}",
                "s3:PutBucketPolicy",
                arn,
                False,
                lambda c, b=bucket: c.put_bucket_policy(
                    Bucket=b,
                    Policy=json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Deny",
                                    "Principal": "*",
                                    "Action": "s3:GetObject",
                                    "Resource": f"arn:aws:s3:::{b}/nothing",
                                }
                            ],
                        }
                    ),
                ),
                {},
            )
        )
    rows.append(
        Row("ListAllMyBuckets", "s3:ListAllMyBuckets", "*", False, lambda c: c.list_buckets(), {})
    )
    return rows


def run_on_emulator(rows: list[Row], client: Any) -> list[str]:
    wrong: list[str] = []
    proven = [row for row in rows if row.emulator_can_prove]
    # 3 buckets x (up to 3 listings + location + 2 keys x 9 object calls + bucket policy) + 1
    assert len(proven) >= 3 * (1 + 18 + 1) + 1, len(proven)
    for row in proven:
        try:
            row.call(client)
            outcome = True
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code != "AccessDenied":
                wrong.append(f"{row.label}: unexpected {code}")
                continue
            outcome = False
        if outcome != row.expected:
            wrong.append(f"{row.label}: {'allowed' if outcome else 'denied'}, expected otherwise")
    return wrong


def run_evaluator(rows: list[Row], credential: IssuedCredential) -> list[str]:
    if credential.kind == Kind.TEMPORARY:
        identity, boundary, session = ROLE_S3_ONLY_POLICY, None, credential.policy
    else:
        identity, boundary, session = credential.policy, BOUNDARIES[credential.boundary_arn], None
    wrong = []
    for row in rows:
        verdict = allowed(
            row.action,
            row.resource,
            identity=identity,
            boundary=boundary,
            session=session,
            context=row.context,
        )
        if verdict != row.expected:
            wrong.append(f"{row.label}: evaluator says {verdict}, expected {row.expected}")
    return wrong


def client_with(secret: Secret, server: Server) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=secret.access_key_id,
        aws_secret_access_key=secret.secret_access_key,
        aws_session_token=secret.session_token or None,
        config=NO_RETRY,
    )


LEVELS = ["read_write", "read_only", "write_only"]
PREFIX_CASES = {"whole-buckets": [], "prefix-reports": ["reports/"]}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("prefixes", PREFIX_CASES)
def test_permanent_credentials_do_exactly_what_they_say(
    personas: Any, emulator_account: AwsAccount, server: Server, level: str, prefixes: str
) -> None:
    credential, secret = issue_through_page(
        personas, emulator_account, level, PREFIX_CASES[prefixes], Kind.PERMANENT
    )
    rows = matrix(level, PREFIX_CASES[prefixes], server)
    assert any(r.expected for r in rows) and any(not r.expected for r in rows)
    assert run_on_emulator(rows, client_with(secret, server)) == []
    assert run_evaluator(rows, credential) == []


@pytest.mark.parametrize("level", LEVELS)
def test_temporary_credentials_work_and_session_policy_limits_them(
    personas: Any, emulator_account: AwsAccount, server: Server, level: str
) -> None:
    credential, secret = issue_through_page(
        personas, emulator_account, level, ["reports/"], Kind.TEMPORARY
    )
    rows = matrix(level, ["reports/"], server)
    client = client_with(secret, server)
    # moto applies the role's policy (s3:*) and ignores the session policy: it proves the
    # session works for every allowed row; the evaluator proves the refusals.
    for row in rows:
        if row.expected and row.emulator_can_prove:
            row.call(client)
    assert run_evaluator(rows, credential) == []


def test_whoami_reads_every_output_format(
    personas: Any, emulator_account: AwsAccount, server: Server
) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "credentials",
        "create",
        "tenant-a",
        "emulator",
        "alpha-data",
        "--read-only",
        "--format",
        "json",
        stdout=out,
        stderr=err,
    )
    parsed = formats.parse_auth(out.getvalue())
    credential = IssuedCredential.objects.get(access_key_id=parsed.access_key_id)
    secret = Secret(parsed.access_key_id, parsed.secret_access_key, user_name="x")
    for fmt in formats.FORMATS:
        whoami = io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("sys.stdin", io.StringIO(formats.render(secret, fmt)))
            call_command(
                "credentials",
                "whoami",
                "--auth",
                "-",
                "--endpoint-url",
                server.endpoint,
                stdout=whoami,
            )
        identity = json.loads(whoami.getvalue())
        assert identity["Arn"].endswith(f":user/s3portal/tenant-a/{credential.iam_user_name}"), fmt
    assert parsed.secret_access_key not in err.getvalue()


def test_whoami_with_temporary_credentials(
    personas: Any, emulator_account: AwsAccount, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    call_command(
        "credentials",
        "create",
        "tenant-a",
        "emulator",
        "alpha-data",
        "--duration",
        "15m",
        "--format",
        "credential_process",
        stdout=out,
        stderr=io.StringIO(),
    )
    document = json.loads(out.getvalue())
    assert document["Version"] == 1 and document["SessionToken"] and document["Expiration"]
    monkeypatch.setattr("sys.stdin", io.StringIO(out.getvalue()))
    whoami = io.StringIO()
    call_command(
        "credentials", "whoami", "--auth", "-", "--endpoint-url", server.endpoint, stdout=whoami
    )
    assert (
        ":assumed-role/s3portal-credentials/s3portal.tenant-a."
        in json.loads(whoami.getvalue())["Arn"]
    )
