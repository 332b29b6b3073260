"""Keep secrets out of every message, log line and file histodata writes."""
from __future__ import annotations

import logging
import os
import re

from . import constants

_MIN_SECRET_LEN = 6
_extra_secrets: set[str] = set()
_QUERY_SECRET = re.compile(r"(?i)((?:access_token|token|key|api_key|apikey|signature|sig|x-amz-signature)=)[^&\s\"']+")
_AUTH_VALUE = re.compile(r"(?i)((?:authorization|girder-token|x-api-key|cookie)[\"']?\s*[:=]\s*[\"']?)"
                         r"(?:(?:bearer|basic|token)\s+)?[^\s\"',}]+")

REDACTED = "***"


def register_secret(value: str | None) -> None:
    """Remember a secret (e.g. a token read from a file) so it is redacted everywhere."""
    if value and len(value) >= _MIN_SECRET_LEN:
        _extra_secrets.add(value)


def known_secrets() -> list[str]:
    secrets = {os.environ.get(name, "") for name in constants.SECRET_ENV_VARS}
    secrets |= _extra_secrets
    return sorted((s for s in secrets if len(s) >= _MIN_SECRET_LEN), key=len, reverse=True)


def redact(text: str) -> str:
    """Replace known secrets, credential query parameters and auth header values with ***."""
    if not text:
        return text
    for secret in known_secrets():
        text = text.replace(secret, REDACTED)
    text = _QUERY_SECRET.sub(lambda m: m.group(1) + REDACTED, text)
    return _AUTH_VALUE.sub(lambda m: m.group(1) + REDACTED, text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record before it is formatted out."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True
