"""Personas (DESIGN.md convention 3), moto fixtures and helpers shared by every test module.

alice: tenant A admin · oscar: tenant A operator · bob: tenant A member · vera: tenant A viewer
carol: tenant B admin · root: platform superuser
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

PASSWORD = "correct horse battery staple"

# One way to load the shared fixtures: each fixture module is a plugin of the whole suite.
pytest_plugins = ["tests.scan_fixtures", "tests.files_fixtures"]

# Persona groups for parametrised tests (`from tests.conftest import TENANT_A`).
TENANT_A = ("alice", "oscar", "bob", "vera")  # every role of tenant A
FIXERS = ("alice", "oscar")  # operators and admins: scans, fixes
ADMIN_SITE_USERS = ("alice", "oscar", "root")  # who reaches /admin/
NOT_ADMIN_SITE_USERS = ("bob", "vera", "stranger")
OTHER_TENANT = "carol"  # tenant B admin: sees none of tenant A


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Fast hashing: personas are created for almost every test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Personas:
    tenant_a: Any
    tenant_b: Any
    alice: Any
    oscar: Any
    bob: Any
    vera: Any
    carol: Any
    root: Any
    stranger: Any  # logged-in user with no tenant at all

    def client_for(self, name: str) -> Client:
        client = Client()
        client.force_login(getattr(self, name))
        return client

    def statuses(
        self, url: str, names: tuple[str, ...] | list[str], *, method: str = "get", data: Any = None
    ) -> dict[str, int]:
        """persona -> status code of one request to url (the isolation helper)."""
        return {
            name: getattr(self.client_for(name), method)(url, data or {}).status_code
            for name in names
        }

    def assert_statuses(
        self, url: str, expected: dict[str, int], *, method: str = "get", data: Any = None
    ) -> None:
        """Each persona gets exactly its expected status (another tenant 404, a weaker role 403)."""
        assert self.statuses(url, list(expected), method=method, data=data) == expected, url


@pytest.fixture
def personas(db: Any) -> Personas:
    from accounts.models import Membership, Role, Tenant

    user_model = get_user_model()
    tenant_a = Tenant.objects.create(slug="tenant-a", name="Tenant A")
    tenant_b = Tenant.objects.create(slug="tenant-b", name="Tenant B")

    def user(name: str, tenant: Any = None, role: str | None = None) -> Any:
        u = user_model.objects.create_user(name, f"{name}@example.com", PASSWORD)
        if tenant is not None:
            Membership.objects.create(user=u, tenant=tenant, role=role)
        return u

    return Personas(
        tenant_a=tenant_a,
        tenant_b=tenant_b,
        alice=user("alice", tenant_a, Role.ADMIN),
        oscar=user("oscar", tenant_a, Role.OPERATOR),
        bob=user("bob", tenant_a, Role.MEMBER),
        vera=user("vera", tenant_a, Role.VIEWER),
        carol=user("carol", tenant_b, Role.ADMIN),
        root=user_model.objects.create_superuser("root", "root@example.com", PASSWORD),
        stranger=user("stranger"),
    )


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake, harmless credentials so nothing can ever reach real AWS."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "AKIATESTTESTTESTTEST",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def moto(aws_env: None) -> Iterator[None]:
    from moto import mock_aws

    from accounts import aws

    aws.clear_session_cache()
    with mock_aws():
        yield
    aws.clear_session_cache()


@pytest.fixture
def account_a(personas: Personas, moto: None) -> Any:
    """An access-key AWS account of tenant A (moto accepts any key unless auth is enforced)."""
    from accounts.models import AuthMethod, AwsAccount

    return AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="prod",
        auth_method=AuthMethod.ACCESS_KEY,
        access_key_id="AKIAPRODPRODPRODPROD",
        secret_access_key="prod-secret-value-1234567890",
    )


@pytest.fixture
def account_b(personas: Personas, moto: None) -> Any:
    from accounts.models import AuthMethod, AwsAccount

    return AwsAccount.objects.create(
        tenant=personas.tenant_b,
        name="b-main",
        auth_method=AuthMethod.ACCESS_KEY,
        access_key_id="AKIABBBBBBBBBBBBBBBB",
        secret_access_key="tenant-b-secret-value-0987654321",
    )


@pytest.fixture
def aws_requires_external_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand in for AWS refusing AssumeRole without the external ID (moto accepts any call):
    the one function that makes that probe answers "refused"."""
    from accounts import aws

    monkeypatch.setattr(aws, "assume_role_without_external_id", lambda account: False)
