from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.management.commands._helpers import get_tenant, validation_message
from accounts.models import AwsAccount, Tenant
from storage.files import services
from storage.files.models import FileSpace

_SIZE_RE = re.compile(r"^(\d+)\s*([KMGT]?)(i?B?)?$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(value: str) -> int:
    """'5368709120', '5G', '5GiB', '500M' -> bytes (binary units)."""
    match = _SIZE_RE.match(value.strip())
    if not match:
        raise CommandError(f"--max-file-size {value!r}: use bytes or a number with K, M, G or T")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def get_account(tenant: Tenant, name: str, option: str) -> AwsAccount:
    account = AwsAccount.objects.filter(tenant=tenant, name=name).first()
    if account is None:
        known = ", ".join(AwsAccount.objects.for_tenant(tenant).values_list("name", flat=True))
        raise CommandError(
            f"{option} {name!r}: tenant {tenant.slug!r} has no such AWS account "
            f"(it has: {known or 'none'})"
        )
    return account


class Command(BaseCommand):
    help = (
        "Create or change a tenant's file space: the primary bucket (and key prefix) and the "
        "backup bucket, each through one of the tenant's AWS accounts. Both buckets are checked "
        "with HeadBucket first; nothing is saved if either is unreachable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant_slug")
        parser.add_argument("--account", required=True, help="AWS account name (primary)")
        parser.add_argument("--bucket", required=True)
        parser.add_argument("--prefix", default="")
        parser.add_argument("--region", default="", help="default: detected, else the account's")
        parser.add_argument("--backup-account", required=True)
        parser.add_argument("--backup-bucket", required=True)
        parser.add_argument("--backup-region", default="")
        parser.add_argument("--max-file-size", help="bytes, or e.g. 5G, 500M")
        parser.add_argument("--retention-days", type=int, help="keep backups of deleted files")
        parser.add_argument(
            "--viewers-may-download", choices=["yes", "no"], help="may viewers download files"
        )
        parser.add_argument(
            "--stream-downloads",
            choices=["yes", "no"],
            help="yes: browsers cannot reach S3, stream downloads through the portal",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant = get_tenant(opts["tenant_slug"])
        account = get_account(tenant, opts["account"], "--account")
        backup_account = get_account(tenant, opts["backup_account"], "--backup-account")
        space = FileSpace.objects.filter(tenant=tenant).first() or FileSpace(tenant=tenant)
        created = space.pk is None
        space.account = account
        space.bucket = opts["bucket"]
        space.prefix = opts["prefix"].strip("/") if opts["prefix"] else ""
        space.backup_account = backup_account
        space.backup_bucket = opts["backup_bucket"]
        if opts["max_file_size"]:
            space.max_file_size = parse_size(opts["max_file_size"])
        if opts["retention_days"] is not None:
            space.delete_retention_days = opts["retention_days"]
        if opts["viewers_may_download"]:
            space.viewers_may_download = opts["viewers_may_download"] == "yes"
        if opts["stream_downloads"]:
            space.browser_can_reach_s3 = opts["stream_downloads"] == "no"
        space.region = opts["region"]
        space.backup_region = opts["backup_region"]
        try:
            space.full_clean()
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc

        try:
            region = services.check_bucket(account, space.bucket, space.region)
            backup_region = services.check_bucket(
                backup_account, space.backup_bucket, space.backup_region
            )
        except services.FilesError as exc:
            raise CommandError(exc.message) from exc
        # Keep a detected region only when it differs from what the account would use anyway.
        if not space.region and region and region != account.default_region:
            space.region = region
        if (
            not space.backup_region
            and backup_region
            and (backup_region != backup_account.default_region)
        ):
            space.backup_region = backup_region
        try:
            services.save_file_space(None, space)
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc
        where = f"s3://{space.bucket}/{space.prefix}" if space.prefix else f"s3://{space.bucket}"
        self.stdout.write(
            f"{'created' if created else 'updated'} the file space of {tenant.slug}: {where} "
            f"(account {account.name}), backups to s3://{space.backup_bucket} "
            f"(account {backup_account.name})"
        )
