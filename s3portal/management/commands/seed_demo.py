"""Seed the demo: a superuser, a demo tenant with admin/operator/member/viewer users, and an AWS
account pointing at a local moto_server with a few buckets of different postures."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts import aws, services
from accounts.models import AuthMethod, AwsAccount, Membership, Tenant
from accounts.verification import verify_account

DEMO_USERS = [
    ("demo-admin", "admin"),
    ("demo-operator", "operator"),
    ("demo-member", "member"),
    ("demo-viewer", "viewer"),
]
DEMO_KEY_ID = "AKIADEMO000000000000"
DEMO_MAIL_DOMAIN = "example.com"  # reserved for examples (RFC 2606): never a real mailbox
DEMO_SECRET = "demo-secret-for-the-local-emulator"  # noqa: S105 (emulator accepts any key)


LOG_BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "S3ServerAccessLogsPolicy",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": ["s3:PutObject"],
            "Resource": "arn:aws:s3:::demo-logs/*",
        }
    ],
}


def demo_email(username: str) -> str:
    return f"{username}@{DEMO_MAIL_DOMAIN}"


class Command(BaseCommand):
    help = "Create demo users, a demo tenant and an AWS account on a local S3 emulator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--endpoint-url", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, *args: Any, endpoint_url: str, password: str, **options: Any) -> None:
        user_model = get_user_model()
        with transaction.atomic():
            root = user_model.objects.filter(username="root").first()
            if root is None:
                root = user_model.objects.create_superuser("root", demo_email("root"), password)
            tenant = Tenant.objects.filter(slug="demo").first() or services.create_tenant(
                None, slug="demo", name="Demo Company"
            )
            for username, role in DEMO_USERS:
                user = user_model.objects.filter(username=username).first()
                if user is None:
                    user = services.create_user(None, username=username, password=password)
                if not user.email:
                    # Alerts go to tenant admins with an address; mail lands in var/mail/.
                    user.email = demo_email(username)
                    user.save(update_fields=["email"])
                if not Membership.objects.filter(user=user, tenant=tenant).exists():
                    services.add_member(None, tenant=tenant, user=user, role=role)
            account = AwsAccount.objects.filter(tenant=tenant, name="local-emulator").first()
            if account is not None and account.endpoint_url != endpoint_url:
                # The emulator may come up on another port than last time.
                before = account.audit_dict()
                account.endpoint_url = endpoint_url
                services.save_aws_account(None, account, before=before)
            if account is None:
                account = services.save_aws_account(
                    None,
                    AwsAccount(
                        tenant=tenant,
                        name="local-emulator",
                        auth_method=AuthMethod.ACCESS_KEY,
                        access_key_id=DEMO_KEY_ID,
                        secret_access_key=DEMO_SECRET,
                        endpoint_url=endpoint_url,
                    ),
                )
        self._seed_buckets(account)
        result = verify_account(account)
        self.stdout.write(f"demo seeded; account verified: {result.ok}")

    def _seed_buckets(self, account: AwsAccount) -> None:
        """Create the demo buckets that are missing, and give only those their posture: the
        emulator keeps its state across runs, so a fix made in the demo stays fixed."""
        s3 = aws.client(account, "s3")
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        buckets = ["demo-private", "demo-public-read", "demo-website", "demo-logs"]
        # The tenant's file space (primary + backup), wired by the demo runner.
        buckets += ["demo-files", "demo-files-backup"]
        created = {name for name in buckets if name not in existing}
        for name in sorted(created):
            s3.create_bucket(Bucket=name)
        if "demo-private" in created:
            s3.put_object(
                Bucket="demo-private", Key="reports/q3.csv", Body=b"quarter,revenue\nq3,42\n"
            )
            s3.put_bucket_versioning(
                Bucket="demo-private", VersioningConfiguration={"Status": "Enabled"}
            )
        if "demo-public-read" in created:
            self._make_public(s3)
        if "demo-logs" in created:
            # demo-logs receives server access logs (the access-logging fix's target): the S3
            # logging service may write to it, as AWS requires of a log bucket.
            s3.put_bucket_policy(Bucket="demo-logs", Policy=json.dumps(LOG_BUCKET_POLICY))
        if "demo-website" in created:
            s3.put_bucket_website(
                Bucket="demo-website",
                WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}},
            )

    def _make_public(self, s3: Any) -> None:
        public_policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicRead",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::demo-public-read/*",
                }
            ],
        }
        s3.put_bucket_policy(Bucket="demo-public-read", Policy=json.dumps(public_policy))
