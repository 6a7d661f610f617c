"""Issue credentials: plan (the dry run: policy + the exact IAM/STS requests), then create.

Everything is validated before the first AWS call. A failure after CreateUser deletes what was
created and says so. The secret exists only in the returned :class:`Secret`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import aws
from accounts.errors import describe_aws_error, error_code
from accounts.models import AuthMethod, AwsAccount, Tenant
from accounts.validators import validate_role_arn
from audit import record
from storage.models import Bucket

from .models import IssuedCredential, Kind, State
from .policies import (
    INLINE_USER_POLICY_LIMIT,
    SESSION_POLICY_LIMIT,
    AccessLevel,
    PolicyError,
    PolicyRequest,
    build_policy,
    compact_json,
    scopes_for,
    validate_policy,
)

MIN_DURATION = 15 * 60  # AssumeRole: DurationSeconds 900 .. 43200
MAX_DURATION = 12 * 3600
CHAINED_ROLE_MAX = 3600  # a role session that assumes a role: at most 1 hour (role chaining)
IAM_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")  # IAM user and role-session names
INLINE_POLICY_NAME = "s3portal"
ROLE_POLICY_NAME = "s3portal-s3-only"
ROLE_PATH = "/s3portal/"
ROLE_S3_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


class CredentialError(Exception):
    """A refusal or failure a person can act on (one line)."""


@dataclass
class Secret:
    """Shown once, then forgotten: never saved, logged or audited."""

    access_key_id: str
    secret_access_key: str
    session_token: str = ""
    expiration: datetime | None = None
    user_name: str = ""

    def __repr__(self) -> str:  # keep the secret out of tracebacks and logs
        return f"Secret(access_key_id={self.access_key_id!r}, secret=***)"


@dataclass
class IssueRequest:
    tenant: Tenant
    account: AwsAccount
    buckets: list[str]
    prefixes: list[str] = field(default_factory=list)
    access: str = AccessLevel.READ_WRITE
    custom_policy: str = ""
    statements: list[str] = field(default_factory=list)
    kind: str = Kind.PERMANENT
    duration_seconds: int = 3600
    expires_on: date | None = None
    username: str = ""
    role_arn: str = ""  # temporary: a role the tenant names; empty: the portal's role
    purpose: str = ""
    no_boundary: bool = False  # only tenant admins may ask (the caller checks the role)
    actor: Any = None
    # The generated user or session name the dry run showed, so that create sends exactly the
    # requests the dry run listed. Only names of the generated shape are taken.
    planned_name: str = ""


@dataclass
class IssuePlan:
    request: IssueRequest
    policy: dict[str, Any]
    boundary_arn: str = ""
    user_name: str = ""
    path: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_duration(text: str) -> int:
    """ "15m", "1h", "12h", "3600" (seconds) -> seconds, within AssumeRole's 15 min .. 12 h."""
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", text or "")
    if match is None:
        raise CredentialError(f"Duration {text!r}: use e.g. 15m, 1h or 12h.")
    seconds = int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    if not MIN_DURATION <= seconds <= MAX_DURATION:
        raise CredentialError(
            f"Duration {text!r} is outside AssumeRole's range of 15 minutes to 12 hours."
        )
    return seconds


def own_bucket_names(tenant: Tenant, account: AwsAccount) -> set[str]:
    """Buckets this tenant owns in this account: the scanned ones and its file-space buckets."""
    from storage.files.models import FileSpace  # storage.files does not import us: no cycle

    names = set(
        Bucket.objects.for_tenant(tenant)
        .filter(account=account, gone_at__isnull=True)
        .values_list("name", flat=True)
    )
    space = FileSpace.objects.for_tenant(tenant).first()
    if space is not None:
        if space.account_id == account.pk:
            names.add(space.bucket)
        if space.backup_account_id == account.pk:
            names.add(space.backup_bucket)
    return names


def boundary_for(access: str) -> str:
    if access == AccessLevel.READ_ONLY:
        return str(settings.CREDENTIALS_READ_ONLY_BOUNDARY_ARN)
    return str(settings.CREDENTIALS_BOUNDARY_ARN)


GENERATED_USER_NAME = re.compile(r"^s3\.(rw|ro|wo|custom)\.[a-z0-9.+-]{1,60}-[0-9a-f]{6}$")


def default_user_name(access: str, buckets: list[str]) -> str:
    short = {"read_write": "rw", "read_only": "ro", "write_only": "wo", "custom": "custom"}
    suffix = "-" + secrets.token_hex(3)
    more = f"+{len(buckets) - 1}" if len(buckets) > 1 else ""
    head = f"s3.{short.get(access, access)}.{buckets[0]}{more}"
    return head[: 64 - len(suffix)] + suffix


def user_path(tenant: Tenant) -> str:
    return f"/s3portal/{tenant.slug}/"


def _expiry_datetime(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def plan_issue(req: IssueRequest) -> IssuePlan:
    """Validate everything and list the exact requests; no AWS call."""
    if req.account.tenant_id != req.tenant.pk:
        raise CredentialError("That AWS account does not belong to this tenant.")
    scopes = scopes_for(req.buckets, req.prefixes)
    req.prefixes = list(scopes[0].prefixes)  # normalised ("reports" -> "reports/")
    own = own_bucket_names(req.tenant, req.account)
    foreign = [s.bucket for s in scopes if s.bucket not in own]
    if foreign:
        raise PolicyError(
            [
                f"Bucket {b!r} is not one of this tenant's buckets in account "
                f"{req.account.name!r} (scan the account first if it is new)."
                for b in foreign
            ]
        )
    policy = build_policy(
        PolicyRequest(
            scopes=scopes,
            access=req.access,
            custom_policy=req.custom_policy,
            extra_statements=req.statements,
        )
    )
    if req.kind == Kind.PERMANENT:
        validate_policy(
            policy, own, limit=INLINE_USER_POLICY_LIMIT, limit_name="inline user policy"
        )
        return _plan_permanent(req, policy)
    if req.kind == Kind.TEMPORARY:
        validate_policy(policy, own, limit=SESSION_POLICY_LIMIT, limit_name="session policy")
        return _plan_temporary(req, policy)
    raise CredentialError(f"Unknown kind {req.kind!r}.")


def _plan_permanent(req: IssueRequest, policy: dict[str, Any]) -> IssuePlan:
    if req.expires_on is not None and req.expires_on <= timezone.localdate():
        raise CredentialError("The expiry date must be in the future.")
    planned = req.planned_name if GENERATED_USER_NAME.match(req.planned_name or "") else ""
    name = req.username or planned or default_user_name(req.access, req.buckets)
    if not IAM_NAME.match(name):
        raise CredentialError(
            f"User name {name!r}: IAM allows 1-64 letters, digits and +=,.@_- characters."
        )
    boundary = "" if req.no_boundary else boundary_for(req.access)
    path = user_path(req.tenant)
    create_user: dict[str, Any] = {
        "Path": path,
        "UserName": name,
        "Tags": [{"Key": "s3portal:tenant", "Value": req.tenant.slug}],
    }
    if boundary:
        create_user["PermissionsBoundary"] = boundary
    plan = IssuePlan(request=req, policy=policy, boundary_arn=boundary, user_name=name, path=path)
    plan.requests = [
        {"service": "iam", "operation": "CreateUser", "params": create_user},
        {
            "service": "iam",
            "operation": "PutUserPolicy",
            "params": {
                "UserName": name,
                "PolicyName": INLINE_POLICY_NAME,
                "PolicyDocument": policy,
            },
        },
        {"service": "iam", "operation": "CreateAccessKey", "params": {"UserName": name}},
    ]
    if not boundary:
        plan.notes.append("No permissions boundary: the inline policy alone limits this user.")
    return plan


def _portal_role_arn(account: AwsAccount, account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:role{ROLE_PATH}{settings.CREDENTIALS_ROLE_NAME}"


def _plan_temporary(req: IssueRequest, policy: dict[str, Any]) -> IssuePlan:
    duration = req.duration_seconds
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise CredentialError("Temporary credentials last 15 minutes to 12 hours.")
    account_id = req.account.verified_account_id or "ACCOUNT_ID"
    plan = IssuePlan(request=req, policy=policy)
    if req.role_arn:
        try:
            validate_role_arn(req.role_arn)
        except ValidationError as exc:
            raise CredentialError(" ".join(exc.messages)) from exc
        named_account = req.role_arn.split(":")[4]
        if req.account.verified_account_id and named_account != req.account.verified_account_id:
            raise CredentialError(
                f"The role {req.role_arn} is in account {named_account}, not in "
                f"{req.account.name!r} ({req.account.verified_account_id})."
            )
        role_arn = req.role_arn
        role_name = role_arn.rsplit("/", 1)[-1]
        plan.requests.append(
            {"service": "iam", "operation": "GetRole", "params": {"RoleName": role_name}}
        )
    else:
        role_arn = _portal_role_arn(req.account, account_id)
        plan.requests.append(
            {
                "service": "iam",
                "operation": "GetRole",
                "params": {"RoleName": settings.CREDENTIALS_ROLE_NAME},
                "note": "if it does not exist: CreateRole (MaxSessionDuration 43200, trusting "
                "the portal's own principal in this account) and PutRolePolicy (s3:* only)",
            }
        )
    if req.account.auth_method == AuthMethod.ASSUME_ROLE and duration > CHAINED_ROLE_MAX:
        plan.notes.append(
            "The portal itself uses an assumed role here, so this is role chaining: AWS caps "
            "the session at 1 hour."
        )
        duration = CHAINED_ROLE_MAX
    plan.requests.append(
        {
            "service": "sts",
            "operation": "AssumeRole",
            "params": {
                "RoleArn": role_arn,
                "RoleSessionName": session_name(req.tenant, planned=req.planned_name),
                "Policy": policy,
                "DurationSeconds": duration,
            },
            "note": "DurationSeconds is capped at the role's MaxSessionDuration (read by GetRole)",
        }
    )
    return plan


def session_name(tenant: Tenant, *, planned: str = "") -> str:
    head = f"s3portal.{tenant.slug}"[:55]
    if re.fullmatch(re.escape(head) + r"\.[0-9a-f]{8}", planned or ""):
        return planned
    return f"{head}.{secrets.token_hex(4)}"


def planned_name(plan: IssuePlan) -> str:
    """The generated name in `plan` (user or session), to carry from the dry run to create."""
    if plan.user_name:
        return plan.user_name
    for call in plan.requests:
        if call["operation"] == "AssumeRole":
            return str(call["params"]["RoleSessionName"])
    return ""


# --- creating ---


def delete_iam_user(iam: BaseClient, user_name: str) -> list[str]:
    """s3-credentials' delete-user: keys (deactivated, deleted), inline policies, the user.

    Returns what it did, one phrase each; a missing user is not an error (idempotent).
    """
    done: list[str] = []
    try:
        for key in iam.list_access_keys(UserName=user_name)["AccessKeyMetadata"]:
            iam.update_access_key(
                UserName=user_name, AccessKeyId=key["AccessKeyId"], Status="Inactive"
            )
            iam.delete_access_key(UserName=user_name, AccessKeyId=key["AccessKeyId"])
            done.append(f"deleted access key {key['AccessKeyId']}")
        for name in iam.list_user_policies(UserName=user_name)["PolicyNames"]:
            iam.delete_user_policy(UserName=user_name, PolicyName=name)
            done.append(f"deleted inline policy {name}")
        for attached in iam.list_attached_user_policies(UserName=user_name)["AttachedPolicies"]:
            iam.detach_user_policy(UserName=user_name, PolicyArn=attached["PolicyArn"])
            done.append(f"detached {attached['PolicyArn']}")
        iam.delete_user(UserName=user_name)
        done.append(f"deleted user {user_name}")
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
    return done


def _aws_message(exc: BaseException, account: AwsAccount, operation: str) -> str:
    code = error_code(exc)
    if code == "PackedPolicyTooLarge":
        return (
            "AWS refused the session policy: its packed (compressed) size is over AWS's limit "
            "(PackedPolicyTooLarge). Use fewer buckets or prefixes."
        )
    if code == "LimitExceeded":
        return f"IAM refused {operation}: a limit was reached ({exc})."
    if code == "EntityAlreadyExists":
        return f"{operation}: an IAM entity of that name already exists; choose another name."
    return describe_aws_error(exc, account_name=account.name, operation=operation)


def issue(plan: IssuePlan) -> tuple[IssuedCredential, Secret]:
    if plan.request.kind == Kind.PERMANENT:
        return _issue_permanent(plan)
    return _issue_temporary(plan)


def _issue_permanent(plan: IssuePlan) -> tuple[IssuedCredential, Secret]:
    req = plan.request
    iam = aws.client(req.account, "iam")
    created = False
    step = "CreateUser"
    try:
        for call in plan.requests:
            step = call["operation"]
            params = dict(call["params"])
            if step == "CreateUser":
                user = iam.create_user(**params)["User"]
                created = True
            elif step == "PutUserPolicy":
                params["PolicyDocument"] = compact_json(params["PolicyDocument"])
                iam.put_user_policy(**params)
            elif step == "CreateAccessKey":
                key = iam.create_access_key(**params)["AccessKey"]
        step = "saving the record"
        with transaction.atomic():
            credential = IssuedCredential.objects.create(
                tenant=req.tenant,
                account=req.account,
                kind=Kind.PERMANENT,
                access=req.access,
                buckets=list(dict.fromkeys(req.buckets)),
                prefixes=list(req.prefixes),
                policy=plan.policy,
                boundary_arn=plan.boundary_arn,
                iam_user_name=plan.user_name,
                iam_path=plan.path,
                iam_user_arn=user.get("Arn", ""),
                access_key_id=key["AccessKeyId"],
                key_created_at=key.get("CreateDate") or timezone.now(),
                expires_at=_expiry_datetime(req.expires_on) if req.expires_on else None,
                issuer=req.actor if getattr(req.actor, "pk", None) else None,
                issuer_name=_actor_name(req.actor),
                purpose=req.purpose,
            )
            record(
                req.actor,
                req.tenant,
                "credentials.issue",
                credential,
                after=credential.audit_dict(),
            )
    except Exception as exc:  # whatever failed, undo what was created
        message = (
            _aws_message(exc, req.account, step)
            if isinstance(exc, ClientError | BotoCoreError)
            else f"{step} failed: {exc}"
        )
        if created:
            message += " " + _rollback(iam, plan.user_name)
        raise CredentialError(message) from exc
    return credential, Secret(
        access_key_id=key["AccessKeyId"],
        secret_access_key=key["SecretAccessKey"],
        user_name=plan.user_name,
    )


def _rollback(iam: BaseClient, user_name: str) -> str:
    try:
        done = delete_iam_user(iam, user_name)
    except (ClientError, BotoCoreError) as exc:
        return (
            f"The IAM user {user_name} was created but could NOT be deleted ({error_code(exc)}): "
            "delete it by hand."
        )
    return f"Nothing was left behind: the portal {', '.join(done) or 'found nothing to delete'}."


def _actor_name(actor: Any) -> str:
    if actor is None:
        return "system (manage.py)"
    return str(actor.get_username()) if hasattr(actor, "get_username") else str(actor)


def _caller(account: AwsAccount) -> dict[str, str]:
    identity = aws.client(account, "sts").get_caller_identity()
    return {"Account": identity["Account"], "Arn": identity["Arn"]}


def _trust_principal(account: AwsAccount, caller: dict[str, str]) -> str:
    """Trust the portal's own principal in that account, not everyone in it (s3-credentials'
    role lets anyone who may assume it in the account get full S3 access)."""
    arn = caller["Arn"]
    if ":user/" in arn or ":role/" in arn:
        return arn
    if ":assumed-role/" in arn and account.role_arn:
        return account.role_arn
    return f"arn:aws:iam::{caller['Account']}:root"


def ensure_portal_role(account: AwsAccount, iam: BaseClient, actor: Any) -> dict[str, Any]:
    """The portal's role for temporary credentials, created once per account on request."""
    name = str(settings.CREDENTIALS_ROLE_NAME)
    try:
        return dict(iam.get_role(RoleName=name)["Role"])
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
    caller = _caller(account)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": _trust_principal(account, caller)},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(
        Path=ROLE_PATH,
        RoleName=name,
        AssumeRolePolicyDocument=compact_json(trust),
        MaxSessionDuration=MAX_DURATION,
        Description="s3portal: temporary scoped S3 credentials (session policies narrow it)",
    )["Role"]
    iam.put_role_policy(
        RoleName=name, PolicyName=ROLE_POLICY_NAME, PolicyDocument=compact_json(ROLE_S3_ONLY_POLICY)
    )
    with transaction.atomic():
        record(
            actor,
            account.tenant,
            "credentials.role.create",
            account,
            after={"role_arn": role["Arn"], "max_session_duration": MAX_DURATION, "trust": trust},
        )
    return dict(role)


def _issue_temporary(plan: IssuePlan) -> tuple[IssuedCredential, Secret]:
    req = plan.request
    iam = aws.client(req.account, "iam")
    sts = aws.client(req.account, "sts")
    step = "GetRole"
    try:
        if req.role_arn:
            role = iam.get_role(RoleName=req.role_arn.rsplit("/", 1)[-1])["Role"]
        else:
            role = ensure_portal_role(req.account, iam, req.actor)
        role_max = int(role.get("MaxSessionDuration") or 3600)
        duration = min(req.duration_seconds, role_max)
        if duration < req.duration_seconds:
            plan.notes.append(f"Capped to the role's MaxSessionDuration of {role_max} seconds.")
        if req.account.auth_method == AuthMethod.ASSUME_ROLE and duration > CHAINED_ROLE_MAX:
            duration = CHAINED_ROLE_MAX
            plan.notes.append("Capped to 1 hour (role chaining).")
        assume = next(c for c in plan.requests if c["operation"] == "AssumeRole")["params"]
        step = "AssumeRole"
        creds = sts.assume_role(
            RoleArn=role["Arn"],
            RoleSessionName=assume["RoleSessionName"],
            Policy=compact_json(plan.policy),
            DurationSeconds=duration,
        )["Credentials"]
    except (ClientError, BotoCoreError) as exc:
        raise CredentialError(_aws_message(exc, req.account, step)) from exc
    expiration = creds["Expiration"]
    if timezone.is_naive(expiration):
        expiration = timezone.make_aware(expiration, UTC)
    with transaction.atomic():
        credential = IssuedCredential.objects.create(
            tenant=req.tenant,
            account=req.account,
            kind=Kind.TEMPORARY,
            access=req.access,
            buckets=list(dict.fromkeys(req.buckets)),
            prefixes=list(req.prefixes),
            policy=plan.policy,
            role_arn=role["Arn"],
            session_name=assume["RoleSessionName"],
            access_key_id=creds["AccessKeyId"],
            expires_at=expiration,
            issuer=req.actor if getattr(req.actor, "pk", None) else None,
            issuer_name=_actor_name(req.actor),
            purpose=req.purpose,
            state=State.ACTIVE,
        )
        record(
            req.actor, req.tenant, "credentials.issue", credential, after=credential.audit_dict()
        )
    return credential, Secret(
        access_key_id=creds["AccessKeyId"],
        secret_access_key=creds["SecretAccessKey"],
        session_token=creds["SessionToken"],
        expiration=expiration,
    )


def expiry_within(days: int) -> date:
    return timezone.localdate() + timedelta(days=days)
