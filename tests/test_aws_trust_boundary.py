"""Issue 7, AWS layer: platform credentials, portal-made external IDs, one role per tenant,
endpoint URLs (SSRF, header injection), AWS errors without response bodies, 500s at the root.

Personas: root (platform superuser) may grant platform credentials; alice (tenant A admin) may
not, unless AWS_AMBIENT_ALLOWED_TENANTS names her tenant; carol (tenant B admin) never reaches A.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts import aws, endpoints, services, trust
from accounts.errors import (
    EndpointRefused,
    PlatformCredentialsRefused,
    describe_aws_error,
)
from accounts.models import AuthMethod, AwsAccount
from accounts.validators import validate_endpoint_url
from accounts.verification import verify_account

pytestmark = pytest.mark.django_db
ROLE_ARN = "arn:aws:iam::222222222222:role/portal-b"
PLATFORM_ARN = "arn:aws:iam::999999999999:role/s3portal-platform"


def _post(tenant: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "tenant": tenant.pk,
        "name": "new-acct",
        "auth_method": "access_key",
        "access_key_id": "AKIANEWNEWNEWNEWNEW1",
        "secret_access_key": "brand-new-secret-abcdef",
        "role_arn": "",
        "role_session_name": "s3portal",
        "default_region": "us-east-1",
        "endpoint_url": "",
    }
    data.update(overrides)
    return data


AMBIENT = {"auth_method": "ambient", "access_key_id": "", "secret_access_key": ""}
ROLE_FROM_PLATFORM = {
    "auth_method": "assume_role",
    "access_key_id": "",
    "secret_access_key": "",
    "role_arn": ROLE_ARN,
}
ROLE_FROM_OWN_KEY = {"auth_method": "assume_role", "role_arn": ROLE_ARN}
ADD_URL = "admin:accounts_awsaccount_add"


@pytest.fixture
def platform_arn(settings: Any) -> str:
    settings.AWS_PLATFORM_PRINCIPAL_ARN = PLATFORM_ARN
    return PLATFORM_ARN


# --- 1. platform (ambient) credentials ------------------------------------------------------


@pytest.mark.parametrize(
    "method", [AMBIENT, ROLE_FROM_PLATFORM], ids=["ambient", "role-via-platform"]
)
def test_tenant_admin_is_refused_platform_credentials_in_admin(
    personas: Any, moto: None, platform_arn: str, method: dict[str, str]
) -> None:
    client = personas.client_for("alice")
    response = client.post(reverse(ADD_URL), _post(personas.tenant_a, **method))
    assert response.status_code == 403
    assert "only a platform administrator can give them" in response.content.decode()
    assert not AwsAccount.objects.filter(name="new-acct").exists()


@pytest.mark.parametrize(
    "method", [AMBIENT, ROLE_FROM_PLATFORM], ids=["ambient", "role-via-platform"]
)
def test_superuser_may_grant_platform_credentials_in_admin(
    personas: Any,
    moto: None,
    platform_arn: str,
    method: dict[str, str],
    aws_requires_external_id: None,
) -> None:
    client = personas.client_for("root")
    response = client.post(reverse(ADD_URL), _post(personas.tenant_a, **method))
    assert response.status_code == 302, response.content.decode()[:1500]
    account = AwsAccount.objects.get(name="new-acct")
    assert account.uses_platform_credentials and account.platform_credentials_approved


def test_tenant_admin_may_assume_a_role_from_their_own_key(
    personas: Any, moto: None, aws_requires_external_id: None
) -> None:
    client = personas.client_for("alice")
    response = client.post(reverse(ADD_URL), _post(personas.tenant_a, **ROLE_FROM_OWN_KEY))
    assert response.status_code == 302, response.content.decode()[:1500]
    account = AwsAccount.objects.get(name="new-acct")
    assert not account.uses_platform_credentials and len(account.external_id) >= 32


def test_ambient_is_offered_to_the_superuser_only(personas: Any) -> None:
    alice_page = personas.client_for("alice").get(reverse(ADD_URL)).content.decode()
    root_page = personas.client_for("root").get(reverse(ADD_URL)).content.decode()
    assert 'value="ambient"' not in alice_page and 'value="access_key"' in alice_page
    assert 'value="ambient"' in root_page


def test_allowed_tenant_admin_may_use_platform_credentials(
    personas: Any, moto: None, settings: Any, aws_requires_external_id: None
) -> None:
    settings.AWS_AMBIENT_ALLOWED_TENANTS = ["tenant-a"]
    client = personas.client_for("alice")
    response = client.post(reverse(ADD_URL), _post(personas.tenant_a, **AMBIENT))
    assert response.status_code == 302
    account = AwsAccount.objects.get(name="new-acct")
    assert not account.platform_credentials_approved  # allowed by the setting, not a grant
    assert aws.client(account, "sts").get_caller_identity()["Account"] == "123456789012"
    carol = personas.client_for("carol")  # tenant B is not named
    response = carol.post(reverse(ADD_URL), _post(personas.tenant_b, name="b-amb", **AMBIENT))
    assert response.status_code == 403


def test_platform_account_is_read_only_for_the_tenant_admin(personas: Any, moto: None) -> None:
    account = services.save_aws_account(
        personas.root,
        AwsAccount(tenant=personas.tenant_a, name="platform", auth_method=AuthMethod.AMBIENT),
    )
    client = personas.client_for("alice")
    url = reverse("admin:accounts_awsaccount_change", args=[account.pk])
    page = client.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    response = client.post(url, _post(personas.tenant_a, name="platform", **AMBIENT))
    assert response.status_code == 403
    # ... nor switched to an access key by her in the service layer.
    account.auth_method = AuthMethod.ACCESS_KEY
    account.access_key_id, account.secret_access_key = "AKIANEWNEWNEWNEWNEW1", "s" * 20
    with pytest.raises(PermissionDenied):
        services.save_aws_account(personas.alice, account)


@pytest.mark.parametrize("method", [AuthMethod.AMBIENT, AuthMethod.ASSUME_ROLE])
def test_service_layer_refuses_tenant_admin_and_grants_root(personas: Any, method: str) -> None:
    def new(name: str) -> AwsAccount:
        return AwsAccount(
            tenant=personas.tenant_a,
            name=name,
            auth_method=method,
            role_arn=f"arn:aws:iam::111122223333:role/{name}" if method != "ambient" else "",
        )

    with pytest.raises(PermissionDenied, match="only a platform administrator"):
        services.save_aws_account(personas.alice, new("by-alice"))
    assert services.save_aws_account(personas.root, new("by-root")).platform_credentials_approved
    assert services.save_aws_account(None, new("by-cli")).platform_credentials_approved
    # Switching an access-key account to platform credentials is refused just the same.
    own = services.save_aws_account(
        personas.alice,
        AwsAccount(
            tenant=personas.tenant_a,
            name="own",
            access_key_id="AKIAOWNOWNOWNOWNOWN1",
            secret_access_key="own-secret-value",
        ),
    )
    own.auth_method, own.access_key_id, own.secret_access_key = AuthMethod.AMBIENT, "", ""
    with pytest.raises(PermissionDenied):
        services.save_aws_account(personas.alice, own)


def test_ungranted_platform_row_is_refused_at_connect_time(personas: Any, moto: None) -> None:
    # A row saved before the trust boundary existed (or written around the service layer).
    account = AwsAccount.objects.create(
        tenant=personas.tenant_a, name="old-ambient", auth_method=AuthMethod.AMBIENT
    )
    with pytest.raises(PlatformCredentialsRefused):
        aws.client(account, "s3")
    response = personas.client_for("alice").post(
        reverse("portal:verify_account", args=[account.pk]), follow=True
    )
    assert response.status_code == 200
    assert "platform&#x27;s own credentials" in response.content.decode()
    account.refresh_from_db()
    assert not account.is_verified


# --- 2. external IDs made by the portal, one role per tenant ----------------------------------


def test_external_id_is_generated_unique_and_stable(personas: Any) -> None:
    first = AwsAccount.objects.create(
        tenant=personas.tenant_a, name="r1", auth_method=AuthMethod.ASSUME_ROLE, role_arn=ROLE_ARN
    )
    second = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="r2",
        auth_method=AuthMethod.ASSUME_ROLE,
        role_arn=ROLE_ARN.replace("portal-b", "other"),
    )
    assert len(first.external_id) >= 32 and first.external_id != second.external_id
    kept = first.external_id
    first.role_session_name = "renamed"
    first.save()
    first.refresh_from_db()
    assert first.external_id == kept  # one per account record, never changed
    with pytest.raises(IntegrityError), transaction.atomic():
        AwsAccount.objects.filter(pk=second.pk).update(external_id=kept)


def test_external_id_is_not_editable_in_the_admin(
    personas: Any, moto: None, aws_requires_external_id: None
) -> None:
    client = personas.client_for("alice")
    assert b'name="external_id"' not in client.get(reverse(ADD_URL)).content
    data = _post(personas.tenant_a, **ROLE_FROM_OWN_KEY, external_id="chosen-by-tenant")
    assert client.post(reverse(ADD_URL), data).status_code == 302
    account = AwsAccount.objects.get(name="new-acct")
    assert account.external_id != "chosen-by-tenant" and len(account.external_id) >= 32
    url = reverse("admin:accounts_awsaccount_change", args=[account.pk])
    page = client.get(url).content.decode()
    assert 'name="external_id"' not in page and account.external_id in page  # shown, read-only
    client.post(url, {**data, "external_id": "changed", "secret_access_key": ""})
    account.refresh_from_db()
    assert account.external_id not in ("changed", "chosen-by-tenant")


def test_trust_policy_is_shown_to_the_tenant_admin(personas: Any, platform_arn: str) -> None:
    account = services.save_aws_account(
        personas.root,
        AwsAccount(
            tenant=personas.tenant_a,
            name="role",
            auth_method=AuthMethod.ASSUME_ROLE,
            role_arn=ROLE_ARN,
        ),
    )
    page = personas.client_for("alice").get(
        reverse("admin:accounts_awsaccount_change", args=[account.pk])
    )
    body = page.content.decode()
    assert page.status_code == 200
    policy = json.loads(body.split("<pre>", 1)[1].split("</pre>", 1)[0].replace("&quot;", '"'))
    statement = policy["Statement"][0]
    assert statement["Principal"] == {"AWS": PLATFORM_ARN}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": account.external_id}}


def test_platform_principal_comes_from_the_ambient_identity(moto: None) -> None:
    arn = aws.platform_principal_arn()
    assert arn.startswith("arn:aws:") and ":assumed-role/" not in arn
    assert (
        trust.principal_from_identity("arn:aws:sts::999999999999:assumed-role/s3portal/i-0abc")
        == "arn:aws:iam::999999999999:role/s3portal"
    )


def test_role_trusting_the_portal_without_external_id_is_refused(
    personas: Any, moto: None, monkeypatch: Any
) -> None:
    account = services.save_aws_account(
        None,
        AwsAccount(
            tenant=personas.tenant_a,
            name="role",
            auth_method=AuthMethod.ASSUME_ROLE,
            role_arn="arn:aws:iam::123456789012:role/portal-a",
        ),
    )
    calls: list[str] = []

    def aws_answers(account: AwsAccount) -> bool:
        calls.append(account.role_arn)
        return True  # AssumeRole WITHOUT the external ID succeeded: the role is open

    monkeypatch.setattr(aws, "assume_role_without_external_id", aws_answers)
    result = verify_account(account)
    assert not result.ok and calls == [account.role_arn]
    assert "your role trusts the portal without an external id" in result.error.lower()
    assert "any other tenant could use it; add the condition" in result.error
    account.refresh_from_db()
    assert not account.is_verified
    monkeypatch.setattr(aws, "assume_role_without_external_id", lambda account: False)
    assert verify_account(account).ok  # fixed: AWS refuses the call without the external ID


def test_probe_treats_access_denied_as_safe(personas: Any, monkeypatch: Any) -> None:
    account = AwsAccount(
        tenant=personas.tenant_a,
        name="role",
        auth_method=AuthMethod.ASSUME_ROLE,
        role_arn=ROLE_ARN,
        platform_credentials_approved=True,
    )

    class RefusingSts:
        def assume_role(self, **params: Any) -> Any:
            assert "ExternalId" not in params
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "AssumeRole")

    class Session:
        def client(self, *args: Any, **kwargs: Any) -> RefusingSts:
            return RefusingSts()

    monkeypatch.setattr(aws, "_source_session", lambda account: Session())
    assert aws.assume_role_without_external_id(account) is False


def test_one_role_arn_belongs_to_one_tenant(
    personas: Any, moto: None, aws_requires_external_id: None
) -> None:
    root = personas.client_for("root")
    assert (
        root.post(reverse(ADD_URL), _post(personas.tenant_b, **ROLE_FROM_PLATFORM)).status_code
        == 302
    )
    response = root.post(
        reverse(ADD_URL), _post(personas.tenant_a, name="steal", **ROLE_FROM_PLATFORM)
    )
    assert response.status_code == 200
    assert "a role can belong to one account of one tenant only" in response.content.decode()
    assert not AwsAccount.objects.filter(name="steal").exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        AwsAccount.objects.create(
            tenant=personas.tenant_a, name="raw", auth_method="assume_role", role_arn=ROLE_ARN
        )


# --- 3./4. endpoint URLs --------------------------------------------------------------------

REFUSED = [
    "http://169.254.169.254",
    "http://169.254.169.254/latest/meta-data/iam",
    "http://2852039166/",  # 169.254.169.254 as a decimal
    "http://0xa9fea9fe/",  # ... as hex
    "http://0251.0376.0251.0376/",  # ... as octal
    "http://127.1/",  # shortened loopback
    "http://[fd00:ec2::254]/",
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped
    "http://[::ffff:127.0.0.1]:9000/",  # IPv4-mapped loopback: the allowlist is for 127/8 only
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 form of the metadata address
    "http://0.0.0.0:9000/",
    "http://[::]/",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://169.254.10.10/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://[fc00::1]/",
    "http://metadata.google.internal/",
    "http://user:pw@127.0.0.1:9000/",
    "http://127.0.0.1:9000/?x=1",
    "http://127.0.0.1:9000/#frag",
    "http://127.0.0.1:9000/\r\nX-Evil: 1",  # header injection: urlsplit drops CR/LF
    "http://127.0.0.1:9000/\nX-Evil: 1",
    "http://127.0.0.1:9000/\tx",
    "http://127.0.0.1:9000 /",
    "http://127.0.0.1:9000/\x00",
    "ftp://127.0.0.1/",
    "http://127.0.0.1:99999/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_endpoint_validator_refuses(url: str) -> None:
    with pytest.raises(ValidationError):
        validate_endpoint_url(url)


def test_header_injection_is_refused_by_the_validator() -> None:
    with pytest.raises(ValidationError, match="whitespace or control characters"):
        validate_endpoint_url("http://127.0.0.1:9000/\r\nX-Evil: 1")


def test_allowlisted_loopback_and_public_hosts_pass(monkeypatch: Any) -> None:
    validate_endpoint_url("http://127.0.0.1:9000")  # tests allowlist 127.0.0.0/8
    monkeypatch.setattr(endpoints, "resolve_host", lambda host, port: ["93.184.216.34"])
    validate_endpoint_url("https://s3.example.com")


def test_loopback_is_refused_without_the_allowlist(settings: Any) -> None:
    settings.AWS_ENDPOINT_ALLOWED_NETWORKS = []
    with pytest.raises(ValidationError, match="loopback"):
        validate_endpoint_url("http://127.0.0.1:9000")


def test_metadata_address_is_refused_even_inside_an_allowlisted_network(settings: Any) -> None:
    settings.AWS_ENDPOINT_ALLOWED_NETWORKS = ["169.254.0.0/16"]
    validate_endpoint_url("http://169.254.10.10/")
    with pytest.raises(ValidationError, match="metadata"):
        validate_endpoint_url("http://169.254.169.254/")


def test_http_needs_the_platform_setting(settings: Any, monkeypatch: Any) -> None:
    settings.AWS_ENDPOINT_ALLOW_HTTP = False
    monkeypatch.setattr(endpoints, "resolve_host", lambda host, port: ["93.184.216.34"])
    with pytest.raises(ValidationError, match="https://"):
        validate_endpoint_url("http://s3.example.com")
    validate_endpoint_url("https://s3.example.com")


def test_host_resolving_to_an_internal_address_is_refused_at_save(monkeypatch: Any) -> None:
    monkeypatch.setattr(endpoints, "resolve_host", lambda host, port: ["93.184.216.34", "10.1.2.3"])
    with pytest.raises(ValidationError, match="private address"):
        validate_endpoint_url("https://s3.internal.example.com")
    monkeypatch.setattr(endpoints, "resolve_host", lambda host, port: [])
    with pytest.raises(ValidationError, match="does not resolve"):
        validate_endpoint_url("https://nowhere.example.com")


def _account(personas: Any, endpoint: str, name: str = "ep") -> AwsAccount:
    return AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name=name,
        access_key_id="AKIAXXXXXXXXXXXXXXXX",
        secret_access_key="secret-value-1234",
        endpoint_url=endpoint,
    )


def test_dns_rebinding_is_refused_at_connect_time(
    personas: Any, moto: None, monkeypatch: Any
) -> None:
    answers = {"s3.rebind.example.com": ["93.184.216.34"]}
    monkeypatch.setattr(endpoints, "resolve_host", lambda host, port: answers[host])
    account = _account(personas, "https://s3.rebind.example.com")
    account.full_clean()  # public when saved
    answers["s3.rebind.example.com"] = ["169.254.169.254"]  # the name now points inside
    with pytest.raises(EndpointRefused, match="cloud metadata"):
        aws.client(account, "s3")
    result = verify_account(account)
    assert not result.ok and "cloud metadata" in result.error


def test_rebinding_after_the_client_was_built_is_refused_before_send(
    personas: Any, moto: None, monkeypatch: Any
) -> None:
    answers = {"s3.rebind.example.com": ["93.184.216.34"]}
    monkeypatch.setattr(endpoints, "resolve_host", lambda host, port: answers[host])
    s3 = aws.client(_account(personas, "https://s3.rebind.example.com"), "s3")  # public now
    answers["s3.rebind.example.com"] = ["10.0.0.7"]  # refused before anything is sent
    with pytest.raises(EndpointRefused, match="private address"):
        s3.list_buckets()


def test_stored_bad_endpoint_gives_a_clear_error_not_a_500(personas: Any, moto: None) -> None:
    account = _account(personas, "http://127.0.0.1:9000/\r\nX-Evil: 1")  # pre-existing row
    result = verify_account(account)
    assert not result.ok and "whitespace or control characters" in result.error
    response = personas.client_for("alice").post(
        reverse("portal:verify_account", args=[account.pk]), follow=True
    )
    assert response.status_code == 200
    assert "whitespace or control characters" in response.content.decode()


# --- 6. AWS errors: the whole botocore family, never a response body --------------------------

SECRET_BODY = b'{"AccessKeyId": "ASIAMETADATASECRET", "SecretAccessKey": "leaked-instance-secret"}'


@pytest.fixture
def not_xml_endpoint() -> Iterator[str]:
    """An endpoint that answers every request 200 with a body that is not XML (like an instance
    metadata service would)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(SECRET_BODY)))
            self.end_headers()
            self.wfile.write(SECRET_BODY)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_verify_now_with_a_non_xml_answer_is_a_message_not_a_500(
    personas: Any, aws_env: None, not_xml_endpoint: str, settings: Any
) -> None:
    settings.AWS_MAX_ATTEMPTS = 1
    account = _account(personas, not_xml_endpoint)
    response = personas.client_for("alice").post(
        reverse("portal:verify_account", args=[account.pk]), follow=True
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "answered something that is not an AWS response" in body
    assert "leaked-instance-secret" not in body and "ASIAMETADATA" not in body
    account.refresh_from_db()
    assert "answered something that is not an AWS response" in account.last_error
    assert "leaked-instance-secret" not in account.last_error


def test_client_error_messages_are_clipped_to_one_short_line() -> None:
    exc = ClientError(
        {"Error": {"Code": "Weird", "Message": "line one\r\n" + "x" * 5000}}, "ListBuckets"
    )
    message = describe_aws_error(exc, account_name="a")
    assert "\n" not in message and "\r" not in message and len(message) < 300


def test_migration_replaces_tenant_chosen_external_ids(personas: Any) -> None:
    import importlib

    from django.apps import apps
    from django.utils import timezone

    migration = importlib.import_module("accounts.migrations.0003_trust_boundary")
    chosen = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="chosen",
        auth_method=AuthMethod.ASSUME_ROLE,
        role_arn=ROLE_ARN,
        external_id="ext-1",  # chosen by the tenant before the portal made them
        last_verified_at=timezone.now(),
    )
    keyed = AwsAccount.objects.create(
        tenant=personas.tenant_a, name="keyed", access_key_id="AKIAKEYKEYKEYKEYKEY1"
    )
    AwsAccount.objects.filter(pk=keyed.pk).update(external_id="left-over")
    migration.close_trust_gaps(apps, None)
    chosen.refresh_from_db()
    keyed.refresh_from_db()
    assert chosen.external_id != "ext-1" and len(chosen.external_id) >= 32
    assert "put the trust policy shown on this account's page on the role" in chosen.last_error
    assert keyed.external_id == ""


@pytest.mark.parametrize("persona", ["root", "alice"])
@pytest.mark.parametrize(
    "endpoint", ["http://169.254.169.254/latest/meta-data/iam", "http://10.0.0.1:9000"]
)
def test_internal_endpoints_are_refused_for_everyone_in_admin_and_cli(
    personas: Any, persona: str, endpoint: str
) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    client = personas.client_for(persona)
    response = client.post(reverse(ADD_URL), _post(personas.tenant_a, endpoint_url=endpoint))
    assert response.status_code == 200  # the form again, with the reason
    assert "the portal does not send requests there" in response.content.decode() or (
        "cloud metadata" in response.content.decode()
    )
    assert not AwsAccount.objects.filter(name="new-acct").exists()
    with pytest.raises(CommandError, match="endpoint_url"):
        call_command("add_aws_account", "tenant-a", "cli-acct", ambient=True, endpoint_url=endpoint)
