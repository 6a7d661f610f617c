"""The ONE place that builds boto3 sessions and clients for an AwsAccount.

Nothing else in the project calls boto3.client(...) or boto3.Session(...). Tests fake AWS here
with moto. Sessions are not thread-safe; clients are, so callers that fan out over threads
create the client first and share it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ClientError
from botocore.session import get_session
from django.conf import settings
from django.utils import timezone

from accounts import endpoints, trust
from accounts.errors import AWS_ERRORS, EndpointRefused, PlatformCredentialsRefused
from accounts.models import AuthMethod
from accounts.pinned_http import pin_connections
from accounts.timestamps import use_fast_timestamps

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from accounts.models import AwsAccount

_session_cache: dict[tuple[int, str], boto3.Session] = {}
_cache_lock = threading.Lock()


def client_config(**overrides: Any) -> Config:
    base = Config(
        retries={"mode": "adaptive", "max_attempts": settings.AWS_MAX_ATTEMPTS},
        connect_timeout=settings.AWS_CONNECT_TIMEOUT,
        read_timeout=settings.AWS_READ_TIMEOUT,
        max_pool_connections=32,
    )
    return base.merge(Config(**overrides)) if overrides else base


def _new_session(**kwargs: Any) -> boto3.Session:
    """Every session of the portal: boto3's, with the fast timestamp parser (timestamps.py)."""
    return use_fast_timestamps(boto3.Session(**kwargs))


def _source_session(account: AwsAccount) -> boto3.Session:
    """Session from the account's own key, or boto3's default chain (env, profile, role).

    The default chain is the platform's own identity: only with a platform grant (trust.py).
    """
    if account.access_key_id and account.secret_access_key:
        return _new_session(
            aws_access_key_id=account.access_key_id,
            aws_secret_access_key=account.secret_access_key,
            region_name=account.default_region,
        )
    if not trust.connect_permitted(account):
        raise PlatformCredentialsRefused(
            "it would run on the platform's own credentials, which no platform administrator "
            "has granted to this tenant: a platform administrator must save the account, or "
            "give it an access key of the tenant's own."
        )
    return _new_session(region_name=account.default_region)


def platform_session(region: str = "us-east-1") -> boto3.Session:
    """The platform's own identity (the ambient chain), for the portal's own calls only."""
    return _new_session(region_name=region)


def platform_client(service: str, region: str = "us-east-1") -> BaseClient:
    """A client on the platform's own identity, for platform-wide calls that belong to no
    tenant (the Price List API for `refresh_prices`): never for a tenant's resources."""
    return platform_session(region).client(service, region_name=region, config=client_config())


_platform_principal: dict[str, str] = {}


def platform_principal_arn() -> str:
    """The principal tenants' roles must trust: the setting, else the ambient identity (cached).

    Empty when neither is known (no ambient credentials): the page then says to set
    AWS_PLATFORM_PRINCIPAL_ARN.
    """
    if settings.AWS_PLATFORM_PRINCIPAL_ARN:
        return str(settings.AWS_PLATFORM_PRINCIPAL_ARN)
    with _cache_lock:
        if "arn" in _platform_principal:
            return _platform_principal["arn"]
    try:
        sts = platform_session().client("sts", config=client_config(retries={"max_attempts": 1}))
        arn = trust.principal_from_identity(sts.get_caller_identity()["Arn"])
    except AWS_ERRORS:
        arn = ""  # remembered too: a page must not wait for a timeout on every view
    with _cache_lock:
        _platform_principal["arn"] = arn
    return arn


def endpoint_guard(endpoint_url: str) -> str:
    """The endpoint URL after every rule of accounts/endpoints.py (the host resolved now)."""
    try:
        endpoints.check_endpoint(endpoint_url)
    except endpoints.EndpointError as exc:
        raise EndpointRefused(str(exc)) from exc
    return endpoint_url


def _check_before_send(request: Any, **_: Any) -> None:
    """Each request's host is resolved and checked again just before it is sent, so a name that
    re-resolves to an internal address (DNS rebinding) or a bucket.host name is refused."""
    try:
        endpoints.check_request_url(request.url)
    except endpoints.EndpointError as exc:
        raise EndpointRefused(str(exc)) from exc


def _guard_client(made: BaseClient, account: AwsAccount) -> BaseClient:
    """Checks on every request of an account with its own endpoint: the host before sending,
    and the address the socket connects to (pinned_http.py)."""
    if account.endpoint_url:
        made.meta.events.register("before-send", _check_before_send)
        pin_connections(made)
    return made


def _assume_role_session(account: AwsAccount) -> boto3.Session:
    """A session whose credentials come from STS AssumeRole and refresh before expiry."""
    source = _source_session(account)
    sts = _guard_client(
        source.client(
            "sts",
            endpoint_url=endpoint_guard(account.endpoint_url) if account.endpoint_url else None,
            config=client_config(),
        ),
        account,
    )

    def fetch() -> dict[str, str]:
        params: dict[str, Any] = {
            "RoleArn": account.role_arn,
            "RoleSessionName": account.role_session_name or "s3portal",
            "DurationSeconds": settings.AWS_ASSUME_ROLE_DURATION,
        }
        if account.external_id:
            params["ExternalId"] = account.external_id
        creds = sts.assume_role(**params)["Credentials"]
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    refreshable = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
    )
    # botocore refreshes when fewer than this many seconds remain.
    refreshable._advisory_refresh_timeout = settings.AWS_ASSUME_ROLE_REFRESH_MARGIN
    refreshable._mandatory_refresh_timeout = min(60, settings.AWS_ASSUME_ROLE_REFRESH_MARGIN)
    core = get_session()
    core._credentials = refreshable
    core.set_config_variable("region", account.default_region)
    return _new_session(botocore_session=core)


def _cache_key(account: AwsAccount) -> tuple[int, str]:
    # Any edit of the account (new key, new role) gives a new key, so stale sessions are unused.
    stamp = account.updated_at.isoformat() if account.updated_at else timezone.now().isoformat()
    return (account.pk or 0, stamp)


def _build_session(account: AwsAccount) -> boto3.Session:
    if account.auth_method == AuthMethod.ASSUME_ROLE:
        return _assume_role_session(account)
    return _source_session(account)


def session_for(account: AwsAccount) -> boto3.Session:
    """The account's session, cached per process: building one costs ~100 ms and ~10 MiB.

    The cache key includes `updated_at`, so any edit of the account (a new key, another role)
    gets a new session; an unsaved account is never cached.
    """
    if account.pk is None:
        return _build_session(account)
    key = _cache_key(account)
    with _cache_lock:
        session = _session_cache.get(key)
        if session is None:
            for stale in [k for k in _session_cache if k[0] == key[0]]:
                del _session_cache[stale]
            session = _build_session(account)
            _session_cache[key] = session
        return session


def clear_session_cache(account_id: int | None = None) -> None:
    """Forget the cached sessions of one account (by id), or of every account."""
    with _cache_lock:
        if account_id is None:
            _session_cache.clear()
            _platform_principal.clear()
            return
        for key in [k for k in _session_cache if k[0] == account_id]:
            del _session_cache[key]


def assume_role_without_external_id(account: AwsAccount) -> bool:
    """Probe: does the role let the portal in WITHOUT the external ID? True: it does (unsafe).

    AWS refuses this call (AccessDenied) when the trust policy has the sts:ExternalId condition.
    moto accepts any AssumeRole, so tests replace this one function to stand in for AWS.
    """
    source = _source_session(account)
    sts = _guard_client(
        source.client(
            "sts",
            endpoint_url=endpoint_guard(account.endpoint_url) if account.endpoint_url else None,
            config=client_config(retries={"mode": "standard", "max_attempts": 1}),
        ),
        account,
    )
    try:
        sts.assume_role(
            RoleArn=account.role_arn,
            RoleSessionName=(account.role_session_name or "s3portal") + "-probe",
            DurationSeconds=900,
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"AccessDenied", "AccessDeniedException"}:
            return False
        raise
    return True


def _pin_endpoint_host(endpoint_url: str) -> Callable[..., None]:
    """s3control puts the account id in front of the host ("123456789012.host"); an emulator or
    S3-compatible endpoint has no such DNS name, so send the request to the configured host."""
    wanted = urlsplit(endpoint_url)

    def handler(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        if parts.netloc != wanted.netloc:
            request.url = urlunsplit(
                (parts.scheme, wanted.netloc, parts.path, parts.query, parts.fragment)
            )

    return handler


def client(
    account: AwsAccount, service: str, *, region: str | None = None, **config: Any
) -> BaseClient:
    """A botocore client for `service`, with adaptive retries, timeouts and the endpoint URL.

    An endpoint URL is checked (and its host resolved) here and again before every request.
    """
    endpoint_url = endpoint_guard(account.endpoint_url) if account.endpoint_url else None
    session = session_for(account)
    with _cache_lock:  # creating clients from one session is not thread-safe
        made = session.client(
            service,
            region_name=region or account.default_region,
            endpoint_url=endpoint_url,
            config=client_config(**config),
        )
    _guard_client(made, account)
    if service == "s3control" and account.endpoint_url:
        made.meta.events.register(
            "before-sign.s3-control", _pin_endpoint_host(account.endpoint_url)
        )
    return made


def client_for_keys(
    service: str,
    *,
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None = None,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
) -> BaseClient:
    """A client from explicit keys (`credentials whoami --auth`: check issued credentials).

    Keys are used, never stored or logged; no session is cached.
    """
    session = _new_session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token or None,
        region_name=region,
    )
    return session.client(service, endpoint_url=endpoint_url or None, config=client_config())
