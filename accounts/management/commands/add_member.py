from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts import services
from accounts.management.commands._helpers import get_tenant, validation_message
from accounts.models import Membership, Role


class Command(BaseCommand):
    help = "Give a user a role in a tenant (admin, operator, member, viewer)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant_slug")
        parser.add_argument("username")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument(
            "--create-user",
            action="store_true",
            help="Create the user if missing (no password: set one with changepassword).",
        )
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **opts: Any) -> None:
        tenant = get_tenant(opts["tenant_slug"])
        username = opts["username"]
        try:
            with transaction.atomic():
                user = get_user_model().objects.filter(username=username).first()
                if user is None:
                    if not opts["create_user"]:
                        raise CommandError(
                            f"unknown user {username!r} (pass --create-user to create it)"
                        )
                    user = services.create_user(None, username=username, email=opts["email"])
                if Membership.objects.filter(user=user, tenant=tenant).exists():
                    raise CommandError(f"{username!r} is already a member of {tenant.slug!r}")
                services.add_member(None, tenant=tenant, user=user, role=opts["role"])
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from exc
        self.stdout.write(f"{username} is now {opts['role']} of {tenant.slug}")
