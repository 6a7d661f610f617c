"""manage.py credentials create|policy|list|rotate|revoke|whoami (parity with s3-credentials).

Secrets are never taken from argv (whoami reads a file or stdin) and are printed once, to
stdout, in the format asked for. Errors are one line and exit non-zero; a failure after
CreateUser deletes what was created and says so.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import aws
from accounts.management.commands._helpers import get_tenant
from accounts.models import AwsAccount
from storage.credentials import formats, lifecycle
from storage.credentials.issuing import (
    INLINE_USER_POLICY_LIMIT,
    CredentialError,
    IssueRequest,
    issue,
    parse_duration,
    plan_issue,
)
from storage.credentials.models import IssuedCredential, Kind
from storage.credentials.policies import (
    AccessLevel,
    PolicyError,
    PolicyRequest,
    build_policy,
    pretty_json,
    scopes_for,
    validate_policy,
)


def _access_options(parser: argparse.ArgumentParser) -> None:
    level = parser.add_mutually_exclusive_group()
    level.add_argument("--read-only", action="store_true", help="read-only access")
    level.add_argument("--write-only", action="store_true", help="write-only access")
    level.add_argument("--policy", metavar="FILE", help="custom policy JSON file, or - for stdin")
    parser.add_argument(
        "--statement", action="append", default=[], metavar="JSON", help="extra statement(s)"
    )
    parser.add_argument("--prefix", action="append", default=[], help="limit to this prefix")


def _read(source: str, what: str) -> str:
    """A file's text, or stdin for "-" (secrets and policies never come from argv)."""
    if source == "-":
        return sys.stdin.read()
    try:
        with open(source, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"cannot read {what} {source}: {exc.strerror}") from exc


def _access(options: dict[str, Any]) -> tuple[str, str]:
    if options.get("policy"):
        return AccessLevel.CUSTOM, _read(options["policy"], "policy file")
    if options.get("read_only"):
        return AccessLevel.READ_ONLY, ""
    if options.get("write_only"):
        return AccessLevel.WRITE_ONLY, ""
    return AccessLevel.READ_WRITE, ""


def _grace(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([dh]?)", text.strip())
    if match is None:
        raise CommandError(f"grace {text!r}: use e.g. 7d, 12h or 0")
    amount = int(match.group(1))
    return timedelta(hours=amount) if match.group(2) == "h" else timedelta(days=amount)


class Command(BaseCommand):
    help = "Issue, list, rotate and revoke scoped S3 credentials."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        create = sub.add_parser("create", help="create credentials for buckets")
        create.add_argument("tenant")
        create.add_argument("account", help="the AWS account's name in the tenant")
        create.add_argument("buckets", nargs="+", metavar="BUCKET")
        _access_options(create)
        create.add_argument("--duration", help="temporary credentials: 15m .. 12h")
        create.add_argument("--role-arn", default="", help="temporary: a role to assume")
        create.add_argument("--expires", help="permanent: YYYY-MM-DD")
        create.add_argument("--username", default="")
        create.add_argument("--purpose", default="")
        create.add_argument("--no-boundary", action="store_true", help="no permissions boundary")
        create.add_argument("--format", choices=formats.FORMATS, default="json")
        create.add_argument("--dry-run", action="store_true")

        policy = sub.add_parser("policy", help="print the policy that create would use")
        policy.add_argument("buckets", nargs="+", metavar="BUCKET")
        _access_options(policy)

        listing = sub.add_parser("list", help="list issued credentials (no secrets)")
        listing.add_argument("--tenant")
        listing.add_argument("--format", choices=["json", "ndjson"], default="json")

        rotate = sub.add_parser("rotate", help="a new key; the old one lasts the grace period")
        rotate.add_argument("id", type=int)
        rotate.add_argument("--grace", help="e.g. 7d, 12h, 0 (CREDENTIALS_DEFAULT_GRACE_DAYS)")
        rotate.add_argument("--format", choices=formats.FORMATS, default="json")

        revoke = sub.add_parser("revoke", help="delete the keys, policies and the IAM user")
        revoke.add_argument("id", type=int)
        revoke.add_argument("--reason", default="revoked with manage.py credentials")

        whoami = sub.add_parser("whoami", help="GetCallerIdentity with a credentials file")
        whoami.add_argument("--auth", required=True, metavar="FILE", help="file, or - for stdin")
        whoami.add_argument("--endpoint-url", default="")
        whoami.add_argument("--region", default="us-east-1")

    def handle(self, *args: Any, **options: Any) -> None:
        handler = getattr(self, f"do_{options['action']}")
        try:
            handler(options)
        except PolicyError as exc:
            raise CommandError("; ".join(exc.problems)) from exc
        except CredentialError as exc:
            raise CommandError(str(exc)) from exc

    def _out(self, text: str) -> None:
        self.stdout.write(text, ending="" if text.endswith("\n") else "\n")

    # --- create / policy ---
    def do_create(self, options: dict[str, Any]) -> None:
        tenant = get_tenant(options["tenant"])
        account = AwsAccount.objects.for_tenant(tenant).filter(name=options["account"]).first()
        if account is None:
            raise CommandError(f"tenant {tenant.slug!r} has no AWS account {options['account']!r}")
        access, custom = _access(options)
        expires: date | None = None
        if options.get("expires"):
            try:
                expires = date.fromisoformat(options["expires"])
            except ValueError as exc:
                raise CommandError(f"--expires {options['expires']!r}: use YYYY-MM-DD") from exc
        temporary = bool(options.get("duration"))
        if temporary and expires:
            raise CommandError("--expires is for permanent credentials; --duration for temporary")
        request = IssueRequest(
            tenant=tenant,
            account=account,
            buckets=options["buckets"],
            prefixes=options["prefix"],
            access=access,
            custom_policy=custom,
            statements=options["statement"],
            kind=Kind.TEMPORARY if temporary else Kind.PERMANENT,
            duration_seconds=parse_duration(options["duration"]) if temporary else 3600,
            expires_on=expires,
            username=options["username"],
            role_arn=options["role_arn"],
            purpose=options["purpose"],
            no_boundary=options["no_boundary"],
        )
        plan = plan_issue(request)
        if options["dry_run"]:
            self._out(
                pretty_json({"policy": plan.policy, "requests": plan.requests, "notes": plan.notes})
            )
            return
        credential, secret = issue(plan)
        for note in plan.notes:
            self.stderr.write(note)
        self.stderr.write(
            f"Created credential #{credential.pk} ({credential.kind}, key "
            f"{credential.access_key_id}); the secret below is shown only once."
        )
        self._out(formats.render(secret, options["format"], profile=f"s3portal-{credential.pk}"))

    def do_policy(self, options: dict[str, Any]) -> None:
        access, custom = _access(options)
        policy = build_policy(
            PolicyRequest(
                scopes=scopes_for(options["buckets"], options["prefix"]),
                access=access,
                custom_policy=custom,
                extra_statements=options["statement"],
            )
        )
        validate_policy(
            policy,
            set(options["buckets"]),
            limit=INLINE_USER_POLICY_LIMIT,
            limit_name="inline user policy",
        )
        self._out(pretty_json(policy))

    # --- list / rotate / revoke ---
    def do_list(self, options: dict[str, Any]) -> None:
        rows = IssuedCredential.objects.select_related("account", "tenant").order_by("pk")
        if options.get("tenant"):
            rows = rows.for_tenant(get_tenant(options["tenant"]))
        items = [
            {
                "id": c.pk,
                "tenant": c.tenant.slug,
                **c.audit_dict(),
                "display_state": c.display_state,
                "last_used_at": c.last_used_at.isoformat() if c.last_used_at else None,
                "created_at": c.created_at.isoformat(),
                "issuer": c.issuer_name,
            }
            for c in rows
        ]
        if options["format"] == "ndjson":
            for item in items:
                self._out(json.dumps(item))
        else:
            self._out(json.dumps(items, indent=2))

    def _credential(self, pk: int) -> IssuedCredential:
        credential = (
            IssuedCredential.objects.select_related("account", "tenant").filter(pk=pk).first()
        )
        if credential is None:
            raise CommandError(f"no credential with id {pk}")
        return credential

    def do_rotate(self, options: dict[str, Any]) -> None:
        credential = self._credential(options["id"])
        grace = _grace(options["grace"] or f"{settings.CREDENTIALS_DEFAULT_GRACE_DAYS}d")
        rotation, secret = lifecycle.rotate(credential, actor=None, grace=grace)
        if rotation.grace_until <= rotation.created_at:
            lifecycle.finish_rotation(rotation.pk)
        self.stderr.write(
            f"New key {rotation.new_access_key_id}; the old key {rotation.old_access_key_id} is "
            f"deleted after {rotation.grace_until:%Y-%m-%d %H:%M} UTC. Shown only once:"
        )
        self._out(formats.render(secret, options["format"], profile=f"s3portal-{credential.pk}"))

    def do_revoke(self, options: dict[str, Any]) -> None:
        credential = self._credential(options["id"])
        done = lifecycle.revoke(credential, actor=None, reason=options["reason"])
        self._out(f"revoked credential #{credential.pk}: {'; '.join(done) or 'already revoked'}")

    # --- whoami ---
    def do_whoami(self, options: dict[str, Any]) -> None:
        try:
            auth = formats.parse_auth(_read(options["auth"], "credentials file"))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        sts = aws.client_for_keys(
            "sts",
            access_key_id=auth.access_key_id,
            secret_access_key=auth.secret_access_key,
            session_token=auth.session_token,
            region=options["region"],
            endpoint_url=options["endpoint_url"],
        )
        try:
            identity = sts.get_caller_identity()
        except (ClientError, BotoCoreError) as exc:
            raise CommandError(f"GetCallerIdentity failed: {exc}") from exc
        self._out(json.dumps({k: identity[k] for k in ("UserId", "Account", "Arn")}, indent=4))
