"""Sockets go only to the address that was checked: a name that re-resolves between the checks
and the connection (DNS rebinding) cannot move a request onto an internal address.

The endpoints below use a name that exists in no DNS ("s3.pinned.test"): a request that reaches
the local server proves the socket was opened on the address the portal's resolver checked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import HTTPClientError

from accounts import aws, endpoints
from accounts.errors import EndpointRefused, describe_aws_error, portal_refusal
from accounts.models import AwsAccount

pytestmark = pytest.mark.django_db
HOST = "s3.pinned.test"
LIST_BUCKETS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Owner><ID>x</ID></Owner><Buckets><Bucket><Name>pinned-bucket</Name>"
    b"<CreationDate>2026-12-01T10:00:00.000Z</CreationDate></Bucket></Buckets>"
    b"</ListAllMyBucketsResult>"
)


@pytest.fixture
def local_s3() -> Iterator[tuple[int, list[str]]]:
    """A server on 127.0.0.1 that answers ListBuckets; yields its port and the paths it got."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(LIST_BUCKETS)))
            self.end_headers()
            self.wfile.write(LIST_BUCKETS)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


def _account(personas: Any, port: int) -> AwsAccount:
    return AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="pinned",
        access_key_id="AKIAXXXXXXXXXXXXXXXX",
        secret_access_key="secret-value-1234",
        endpoint_url=f"http://{HOST}:{port}",
    )


def _refused_at_the_socket(
    personas: Any, port: int, monkeypatch: Any, answers: Iterator[list[str]]
) -> EndpointRefused:
    """Build the client (first answer), drop the before-send check as if the name changed just
    after it ran, send: the refusal raised when the socket was about to open."""
    monkeypatch.setattr(endpoints, "resolve_host", lambda host, port: next(answers))
    s3 = aws.client(_account(personas, port), "s3", retries={"max_attempts": 1})
    monkeypatch.setattr(endpoints, "check_request_url", lambda url: None)
    with pytest.raises(HTTPClientError) as caught:
        s3.list_buckets()
    refusal = portal_refusal(caught.value)
    assert isinstance(refusal, EndpointRefused)
    message = describe_aws_error(caught.value, account_name="pinned")
    assert message == f"Account 'pinned': {refusal.reason}"
    return refusal


def test_the_socket_connects_to_the_checked_address(
    personas: Any, aws_env: None, local_s3: tuple[int, list[str]], monkeypatch: Any
) -> None:
    port, seen = local_s3
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]  # the tests' allowlist has 127.0.0.0/8

    monkeypatch.setattr(endpoints, "resolve_host", resolver)
    s3 = aws.client(_account(personas, port), "s3", retries={"max_attempts": 1})
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names == ["pinned-bucket"] and seen == ["/"]
    # built, before-send, and the socket: each resolved through the checked resolver
    assert lookups == [HOST, HOST, HOST]


def test_rebinding_between_the_request_check_and_the_socket_is_refused(
    personas: Any, aws_env: None, local_s3: tuple[int, list[str]], monkeypatch: Any
) -> None:
    port, seen = local_s3
    answers = iter([["127.0.0.1"]] + [["10.0.0.7"]] * 10)  # allowed first, then inside
    refusal = _refused_at_the_socket(personas, port, monkeypatch, answers)
    assert refusal.reason.startswith("The endpoint host s3.pinned.test resolved to")
    assert "10.0.0.7" in refusal.reason and "private address" in refusal.reason
    assert seen == []  # nothing was sent anywhere


def test_a_metadata_answer_at_connect_time_is_refused_even_when_allowlisted(
    personas: Any, aws_env: None, local_s3: tuple[int, list[str]], monkeypatch: Any, settings: Any
) -> None:
    port, seen = local_s3
    settings.AWS_ENDPOINT_ALLOWED_NETWORKS = ["127.0.0.0/8", "169.254.0.0/16"]
    answers = iter([["127.0.0.1"]] + [["169.254.169.254"]] * 10)
    refusal = _refused_at_the_socket(personas, port, monkeypatch, answers)
    assert "cloud metadata" in refusal.reason
    assert seen == []


def test_every_address_must_be_allowed_not_just_the_first(
    personas: Any, aws_env: None, local_s3: tuple[int, list[str]], monkeypatch: Any
) -> None:
    port, seen = local_s3
    answers = iter([["127.0.0.1"]] + [["127.0.0.1", "192.168.1.5"]] * 10)
    refusal = _refused_at_the_socket(personas, port, monkeypatch, answers)
    assert "192.168.1.5" in refusal.reason
    assert seen == []


def test_accounts_without_an_endpoint_keep_botocores_connections(
    personas: Any, moto: None, monkeypatch: Any
) -> None:
    """AWS's own endpoints (amazonaws.com) are not pinned: nothing a tenant types is involved."""
    account = AwsAccount.objects.create(
        tenant=personas.tenant_a,
        name="aws",
        access_key_id="AKIAXXXXXXXXXXXXXXXX",
        secret_access_key="secret-value-1234",
    )
    s3 = aws.client(account, "s3")
    pools = s3._endpoint.http_session._manager.pool_classes_by_scheme
    assert pools["https"].__name__ == "AWSHTTPSConnectionPool"
    monkeypatch.setattr(endpoints, "resolve_host", lambda host, port: ["127.0.0.1"])
    pinned = aws.client(_account(personas, 9000), "s3")
    pools = pinned._endpoint.http_session._manager.pool_classes_by_scheme
    assert pools["https"].__name__ == "PinnedHTTPSConnectionPool"
