"""AWS errors turned into messages a person can act on (never "access denied" for everything)."""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)

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


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_EXCEPTIONS) or error_code(exc) in THROTTLING_CODES


def describe_aws_error(
    exc: BaseException, *, account_name: str, operation: str = "", resource: str = ""
) -> str:
    """One sentence naming the account, the permission or cause, and what to check."""
    where = f" on {resource}" if resource else ""
    code = error_code(exc)
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
        return f"Invalid request for account {account_name!r}: {exc}"
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
    message = str(exc)
    if isinstance(exc, ClientError):
        message = exc.response.get("Error", {}).get("Message", "")
    return f"AWS error for account {account_name!r}{where}: {code}: {message}".strip()


def _bucket_phrase(resource: str) -> str:
    """The bucket named in the resource forms callers pass: "bucket x", "s3://x/key", "x"."""
    name = resource.removeprefix("bucket ").removeprefix("s3://").split("/", 1)[0]
    return f"Bucket {name!r}" if name else "The bucket"
