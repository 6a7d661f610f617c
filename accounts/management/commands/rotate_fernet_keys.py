from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.crypto import encrypted_fields


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of FERNET_KEYS. Put the new key first "
        "and keep the old ones after it until this has run; then the old keys can be dropped."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        failures: list[str] = []
        count = 0
        with transaction.atomic():
            for model, names in encrypted_fields():
                for pk in model._default_manager.values_list("pk", flat=True).iterator():
                    try:
                        obj = model._default_manager.get(pk=pk)
                    except InvalidToken:
                        failures.append(f"{model._meta.verbose_name} {self._label(model, pk)}")
                        continue
                    obj.save(update_fields=names)  # encrypts with the first key
                    count += 1
            if failures:
                raise CommandError(
                    "no configured key decrypts the secret of: "
                    + ", ".join(failures)
                    + " (nothing was changed; add the old key to FERNET_KEYS)"
                )
        self.stdout.write(f"re-encrypted secrets of {count} objects with the first key")

    @staticmethod
    def _label(model: Any, pk: Any) -> str:
        fields = {f.name for f in model._meta.fields}
        if {"name", "tenant"} <= fields:
            name, slug = model._default_manager.filter(pk=pk).values_list("name", "tenant__slug")[0]
            return f"{name!r} of tenant {slug!r} (id {pk})"
        return f"id {pk}"
