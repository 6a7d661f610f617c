"""In a real browser: Admin > Add AWS account shows the fields of the chosen method only, offers
no platform credentials to a tenant admin, and preselects her only tenant (issue 8 item 18)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def _visible(page: Any, field: str) -> bool:
    return bool(page.locator(f".form-row.field-{field}").is_visible())


def test_add_aws_account_form_follows_the_method(
    live_server: Any, page: Any, personas: Any
) -> None:
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/admin/accounts/awsaccount/add/")
    assert page.locator("#id_tenant").input_value() == str(personas.tenant_a.pk)
    methods = page.locator("#id_auth_method option").evaluate_all("els => els.map(e => e.value)")
    assert methods == ["access_key", "assume_role"]  # no "ambient" for a tenant admin
    assert page.get_by_text("Secret access key", exact=False).count() == 1

    page.select_option("#id_auth_method", "access_key")
    assert _visible(page, "access_key_id") and _visible(page, "secret_access_key")
    assert not _visible(page, "role_arn") and not _visible(page, "role_session_name")

    page.select_option("#id_auth_method", "assume_role")
    assert _visible(page, "role_arn") and _visible(page, "role_session_name")
    assert _visible(page, "access_key_id")  # the source key of the AssumeRole call
