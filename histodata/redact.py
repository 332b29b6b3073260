"""Keep secrets out of every message, log line and file histodata writes."""
from __future__ import annotations

import logging
import os
import re

from . import constants

_MIN_SECRET_LEN = 6
_extra_secrets: set[str] = set()
_QUERY_SECRET = re.compile(r"(?i)((?:access_token|token|key|api_key|apikey|signature|sig|x-amz-signature)=)[^&\s\"']+")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@:]+:[^\s/@]+@")   # scheme://user:password@
_AUTH_VALUE = re.compile(r"(?i)((?:authorization|girder-token|x-api-key|x-auth-token|cookie)[\"']?\s*[:=]\s*[\"']?)"
                         r"(?:(?:bearer|basic|token)\s+)?[^\s\"',}]+")

REDACTED = "***"


def forms(value: str | None) -> set[str]:
    """A secret as written and as sent (stripped of the spaces a file or a variable may carry)."""
    return {value, value.strip()} if value else set()


def register_secret(value: str | None) -> None:
    """Remember a secret (e.g. a token read from a file) so it is redacted everywhere."""
    _extra_secrets.update(form for form in forms(value) if len(form) >= _MIN_SECRET_LEN)


def known_secrets() -> list[str]:
    secrets = {form for name in constants.SECRET_ENV_VARS for form in forms(os.environ.get(name))}
    secrets |= _extra_secrets
    return sorted((s for s in secrets if len(s) >= _MIN_SECRET_LEN), key=len, reverse=True)


def redact(text: str) -> str:
    """Replace known secrets, passwords in URLs, credential query parameters and auth header
    values with ***."""
    if not text:
        return text
    for secret in known_secrets():
        text = text.replace(secret, REDACTED)
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + REDACTED + "@", text)
    text = _QUERY_SECRET.sub(lambda m: m.group(1) + REDACTED, text)
    return _AUTH_VALUE.sub(lambda m: m.group(1) + REDACTED, text)


def holds_secret(text: str) -> bool:
    """True when `text` carries something `redact` would hide (a token, a URL password, ...)."""
    return redact(text) != text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record before it is formatted out."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True
