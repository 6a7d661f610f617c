"""Input validation for AWS account fields: clear messages (only the endpoint resolves DNS)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from accounts.endpoints import EndpointError, check_endpoint

ACCESS_KEY_ID_RE = re.compile(r"^(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,124}$")
ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def validate_access_key_id(value: str) -> None:
    if value and not ACCESS_KEY_ID_RE.match(value):
        raise ValidationError(
            "%(value)s is not an AWS access key id (expected AKIA... or ASIA... , "
            "16 or more capital letters and digits).",
            params={"value": value[:40]},
            code="invalid_access_key_id",
        )


def validate_role_arn(value: str) -> None:
    if value and not ROLE_ARN_RE.match(value):
        raise ValidationError(
            "%(value)s is not an IAM role ARN (expected arn:aws:iam::123456789012:role/NAME).",
            params={"value": value[:200]},
            code="invalid_role_arn",
        )


def validate_region(value: str) -> None:
    if not REGION_RE.match(value):
        raise ValidationError(
            "%(value)s is not an AWS region name (e.g. us-east-1, eu-west-2).",
            params={"value": value[:40]},
            code="invalid_region",
        )


def validate_endpoint_url(value: str) -> None:
    """The rules of accounts/endpoints.py; resolves the host name (checked again at connect)."""
    if not value:
        return
    try:
        check_endpoint(value)
    except EndpointError as exc:
        raise ValidationError(str(exc), code="invalid_endpoint_url") from exc
