"""Helpers around the Fernet-encrypted fields (key rotation)."""

from __future__ import annotations

from django.apps import apps
from django.db import models
from fernet_fields import EncryptedField


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.fields if isinstance(f, EncryptedField)]
        if names:
            found.append((model, names))
    return found


def reset_key_cache() -> None:
    """The fields cache their Fernet keys; drop them so a settings change takes effect."""
    for model, names in encrypted_fields():
        for name in names:
            field = model._meta.get_field(name)
            for attr in ("keys", "fernet_keys", "fernet"):
                field.__dict__.pop(attr, None)
