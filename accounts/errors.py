"""AWS errors turned into messages a person can act on (never "access denied" for everything)."""

from __future__ import annotations

import re

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError


class PortalRefusal(BotoCoreError):
    """The portal itself refuses to send a request (an endpoint or credentials it may not use).

    A BotoCoreError, so every place that handles AWS errors handles it the same way.
    """

    fmt = "{reason}"

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)
        self.reason = reason


class EndpointRefused(PortalRefusal):
    """The account's endpoint URL (or the host a request goes to) is not allowed."""


class PlatformCredentialsRefused(PortalRefusal):
    """The account would run on the platform's own credentials without a platform grant."""


# The whole botocore family: ResponseParserError (an endpoint answered something that is not an
# AWS response) is a plain Exception, not a BotoCoreError. Catch AWS_ERRORS wherever AWS is called.
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f]+")
MAX_DETAIL = 200

THROTTLING_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalError",
}
# Errors worth retrying later (network blips, throttling); everything else is final.
TRANSIENT_EXCEPTIONS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)


def safe_detail(text: str) -> str:
    """An AWS error text fit for a message: one line, short (never a whole response body)."""
    line = _UNSAFE_CHARS.sub(" ", str(text)).strip()
    return line if len(line) <= MAX_DETAIL else line[: MAX_DETAIL - 1] + "…"


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_EXCEPTIONS) or error_code(exc) in THROTTLING_CODES


def portal_refusal(exc: BaseException) -> PortalRefusal | None:
    """The portal's own refusal behind `exc`: raised directly, or from inside botocore's HTTP
    layer (a refused connection, pinned_http.py), which botocore wraps in HTTPClientError."""
    if isinstance(exc, PortalRefusal):
        return exc
    if isinstance(exc, HTTPClientError):
        inner = exc.kwargs.get("error")
        if isinstance(inner, PortalRefusal):
            return inner
    return None


def describe_aws_error(
    exc: BaseException, *, account_name: str, operation: str = "", resource: str = ""
) -> str:
    """One sentence naming the account, the permission or cause, and what to check."""
    where = f" on {resource}" if resource else ""
    refusal = portal_refusal(exc)
    if refusal is not None:
        return f"Account {account_name!r}: {refusal.reason}"
    code = error_code(exc)
    if isinstance(exc, ResponseParserError):
        # botocore puts the raw body into this message (for a metadata service: credentials).
        return (
            f"The endpoint of account {account_name!r} answered something that is not an AWS "
            "response: check the endpoint URL (it must be an S3-compatible API)."
        )
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return (
            f"Could not reach the endpoint for account {account_name!r} "
            f"({getattr(exc, 'kwargs', {}).get('endpoint_url', 'unknown endpoint')}): "
            "check the endpoint URL, the region and the network."
        )
    if isinstance(exc, ReadTimeoutError):
        return f"AWS did not answer in time for account {account_name!r}; it will be retried."
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return (
            f"No credentials were found for account {account_name!r}: set an access key, or "
            "provide ambient credentials (environment, profile or instance role) to the portal."
        )
    if isinstance(exc, ParamValidationError):
        return f"Invalid request for account {account_name!r}: {safe_detail(str(exc))}"
    if code in {"InvalidClientTokenId", "InvalidAccessKeyId", "UnrecognizedClientException"}:
        return (
            f"AWS does not recognise the access key id of account {account_name!r} ({code}): "
            "check that the key id is correct and still active."
        )
    if code in {"SignatureDoesNotMatch", "IncompleteSignature"}:
        return (
            f"AWS rejected the secret access key of account {account_name!r} ({code}): "
            "re-enter the secret key that belongs to this key id."
        )
    if code == "ExpiredToken":
        return f"The temporary credentials of account {account_name!r} have expired ({code})."
    if code in {"AccessDenied", "AccessDeniedException", "AllAccessDisabled"}:
        permission = f" {operation}" if operation else ""
        return (
            f"The credentials of account {account_name!r} lack the permission{permission}{where} "
            f"({code}): grant it in the IAM policy, or check the bucket policy."
        )
    if code in THROTTLING_CODES:
        return f"AWS throttled account {account_name!r} ({code}) even after retries{where}."
    if code in {"NoSuchBucket"}:
        return (
            f"{_bucket_phrase(resource)} does not exist in account {account_name!r} or no "
            "longer exists (NoSuchBucket): check the name, or rescan the account."
        )
    if isinstance(exc, ClientError):
        message = safe_detail(exc.response.get("Error", {}).get("Message", ""))
    else:
        # Other botocore errors are formatted from request facts; still keep them short.
        message = safe_detail(str(exc))
    return f"AWS error for account {account_name!r}{where}: {code}: {message}".strip(" :")


def _bucket_phrase(resource: str) -> str:
    """The bucket named in the resource forms callers pass: "bucket x", "s3://x/key", "x"."""
    name = resource.removeprefix("bucket ").removeprefix("s3://").split("/", 1)[0]
    return f"Bucket {name!r}" if name else "The bucket"


def describe_failure(exc: BaseException, *, account_name: str) -> str:
    """For catch-all handlers: AWS errors as above, anything else as its type and a short line
    (an AWS error must never reach a page or a log as its raw response body)."""
    if isinstance(exc, AWS_ERRORS):
        return describe_aws_error(exc, account_name=account_name)
    return f"{type(exc).__name__}: {safe_detail(str(exc))}"
