"""Connections that go only to the address that was checked (no DNS rebinding at connect time).

accounts/aws.py checks an endpoint's host when a client is built and again just before every
request (`before-send`). urllib3 then resolves the name a third time to open the socket: a
resolver answering with a short TTL could give a public address to the checks and an internal
one to the socket. Clients of accounts with an endpoint URL therefore open their sockets here:
the host is resolved once, every address is judged by `endpoints.check_host` (the same rules as
every other check), and the socket connects to those very addresses. TLS still verifies the
certificate against the host name.

Only direct connections are pinned: through a proxy the platform configured, the socket goes
to the proxy, which resolves the target itself.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import (
    AWSHTTPConnection,
    AWSHTTPConnectionPool,
    AWSHTTPSConnection,
    AWSHTTPSConnectionPool,
)
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection

from accounts import endpoints
from accounts.errors import EndpointRefused

if TYPE_CHECKING:
    from botocore.client import BaseClient


def checked_addresses(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to now, all allowed; raises EndpointRefused otherwise."""
    try:
        return [str(address) for address in endpoints.check_host(host, port)]
    except endpoints.EndpointError as exc:
        raise EndpointRefused(str(exc)) from exc


class _PinnedMixin:
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        last_error: OSError | None = None
        for address in checked_addresses(self.host, self.port):
            try:
                sock = connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                last_error = exc
                continue
            return sock
        raise NewConnectionError(
            self,  # type: ignore[arg-type]
            f"Failed to establish a new connection: {last_error}",
        )


class PinnedHTTPConnection(_PinnedMixin, AWSHTTPConnection):
    pass


class PinnedHTTPSConnection(_PinnedMixin, AWSHTTPSConnection):
    pass


class PinnedHTTPConnectionPool(AWSHTTPConnectionPool):
    ConnectionCls = PinnedHTTPConnection


class PinnedHTTPSConnectionPool(AWSHTTPSConnectionPool):
    ConnectionCls = PinnedHTTPSConnection


PINNED_POOLS = {"http": PinnedHTTPConnectionPool, "https": PinnedHTTPSConnectionPool}


def pin_connections(made: BaseClient) -> BaseClient:
    """Make `made` open its direct connections through the pinned classes above.

    Fails loudly (AttributeError) if botocore's HTTP session no longer looks like this, rather
    than silently sending unpinned requests.
    """
    manager = made._endpoint.http_session._manager
    manager.pool_classes_by_scheme = PINNED_POOLS
    manager.clear()  # no connection opened before pinning is reused
    return made
