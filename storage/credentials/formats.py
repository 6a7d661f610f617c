"""Output formats for a one-time secret, and parsing any of them back (`whoami --auth`).

json is s3-credentials' shape (the AccessKey / Credentials fields of the AWS response), ini a
``~/.aws/credentials`` section, env ``AWS_*=...`` lines, credential_process the JSON the AWS
CLI and SDKs expect from a ``credential_process`` command (Version 1).
"""

from __future__ import annotations

import configparser
import json
from dataclasses import dataclass

from .issuing import Secret

FORMATS = ("json", "ini", "env", "credential_process")


def render(secret: Secret, fmt: str, *, profile: str = "s3portal") -> str:
    if fmt == "json":
        data: dict[str, str] = {
            "AccessKeyId": secret.access_key_id,
            "SecretAccessKey": secret.secret_access_key,
        }
        if secret.user_name:
            data = {"UserName": secret.user_name, **data}
        if secret.session_token:
            data["SessionToken"] = secret.session_token
        if secret.expiration:
            data["Expiration"] = secret.expiration.isoformat()
        return json.dumps(data, indent=4) + "\n"
    if fmt == "credential_process":
        data = {
            "Version": 1,  # type: ignore[dict-item]
            "AccessKeyId": secret.access_key_id,
            "SecretAccessKey": secret.secret_access_key,
        }
        if secret.session_token:
            data["SessionToken"] = secret.session_token
        if secret.expiration:
            data["Expiration"] = secret.expiration.isoformat()
        return json.dumps(data) + "\n"
    if fmt == "ini":
        lines = [
            f"[{profile}]",
            f"aws_access_key_id = {secret.access_key_id}",
            f"aws_secret_access_key = {secret.secret_access_key}",
        ]
        if secret.session_token:
            lines.append(f"aws_session_token = {secret.session_token}")
        return "\n".join(lines) + "\n"
    if fmt == "env":
        lines = [
            f"AWS_ACCESS_KEY_ID={secret.access_key_id}",
            f"AWS_SECRET_ACCESS_KEY={secret.secret_access_key}",
        ]
        if secret.session_token:
            lines.append(f"AWS_SESSION_TOKEN={secret.session_token}")
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")


@dataclass
class ParsedAuth:
    access_key_id: str
    secret_access_key: str
    session_token: str = ""

    def __repr__(self) -> str:
        return f"ParsedAuth(access_key_id={self.access_key_id!r}, secret=***)"


def parse_auth(text: str) -> ParsedAuth:
    """Keys from any of the formats above; ValueError (without the secret) if none fit."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"the credentials file is not valid JSON ({exc.msg})") from exc
        data = data.get("Credentials", data.get("AccessKey", data))
        return _parsed(
            data.get("AccessKeyId"), data.get("SecretAccessKey"), data.get("SessionToken")
        )
    if stripped.startswith("["):
        parser = configparser.ConfigParser()
        try:
            parser.read_string(stripped)
        except configparser.Error as exc:
            raise ValueError("the credentials file is not a valid INI file") from exc
        section = parser[parser.sections()[0]] if parser.sections() else {}
        return _parsed(
            section.get("aws_access_key_id"),
            section.get("aws_secret_access_key"),
            section.get("aws_session_token"),
        )
    values: dict[str, str] = {}
    for line in stripped.splitlines():
        line = line.strip().removeprefix("export ")
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return _parsed(
        values.get("AWS_ACCESS_KEY_ID"),
        values.get("AWS_SECRET_ACCESS_KEY"),
        values.get("AWS_SESSION_TOKEN"),
    )


def _parsed(key: str | None, secret: str | None, token: str | None) -> ParsedAuth:
    if not key or not secret:
        raise ValueError(
            "no access key id and secret found (expected json, ini, env or credential_process)"
        )
    return ParsedAuth(str(key), str(secret), str(token or ""))
