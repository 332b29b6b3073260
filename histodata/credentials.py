"""Credentials for the services that need them, read where each service's own tools read them.

Values come from environment variables or the files those tools use; they travel in request
headers only, and every value read from a file is registered with `histodata.redact` so it
never appears in output, logs, errors or files. See docs/credentials.md.
"""
from __future__ import annotations

import base64
import json
import logging
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from . import constants
from .errors import CredentialsError
from .redact import register_secret

log = logging.getLogger(__name__)
_SCOPES: dict[str, frozenset[str]] = {}   # a credential header's value -> the hosts it belongs to


@dataclass(frozen=True)
class Service:
    """Where a person gets a service's token, for error messages and the docs."""

    name: str
    variables: str
    where: str


ZENODO = Service("Zenodo", constants.ENV_ZENODO_TOKEN,
                 "https://zenodo.org/account/settings/applications/tokens/new/")
GRAND_CHALLENGE = Service("grand-challenge.org", constants.ENV_GRAND_CHALLENGE,
                          "https://grand-challenge.org/settings/api-tokens/")
KAGGLE = Service("Kaggle", f"{constants.ENV_KAGGLE_API_TOKEN} (or {constants.ENV_KAGGLE_USERNAME} and "
                 f"{constants.ENV_KAGGLE_KEY})", "https://www.kaggle.com/settings (API, 'Create New Token')")
GIRDER = Service("Girder / Digital Slide Archive", constants.ENV_GIRDER_API_KEY,
                 "your account page on the Girder server (API keys tab)")
GDC = Service("The NCI Genomic Data Commons",
              f"{constants.ENV_GDC_TOKEN} (or {constants.ENV_GDC_TOKEN_FILE})",
              "https://portal.gdc.cancer.gov/ (sign in, then your user menu, 'Download Token'; "
              "controlled data needs dbGaP approval)")


def missing(service: Service, why: str = "") -> CredentialsError:
    """The error for absent credentials: which variable to set and where to get the token."""
    because = f" {why}" if why else ""
    return CredentialsError(f"{service.name} needs credentials that are not set.{because}",
                            f"Set {service.variables}; get a token at {service.where}. "
                            f"See {constants.docs_page('credentials')}.")


def refused(service: Service, status: int, detail: str = "") -> CredentialsError:
    """The error for credentials the service rejected (HTTP 401)."""
    said = f" ({detail})" if detail else ""
    return CredentialsError(f"{service.name} refused the credentials (HTTP {status}){said}.",
                            f"Check {service.variables}; a new token can be made at {service.where}.")


def warn_if_readable_by_others(path: Path) -> None:
    """Warn when a credential file can be read by other users of the machine."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("credential file %s is readable by other users; run: chmod 600 %s", path, path)


def read_secret_file(path: Path) -> str | None:
    """The stripped text of a credential file (registered for redaction), or None if absent."""
    try:
        text = path.read_text().strip()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    except OSError as err:
        raise CredentialsError(f"cannot read credential file {path}: {err.strerror}.",
                               "Fix its permissions (chmod 600) or remove it.") from None
    warn_if_readable_by_others(path)
    register_secret(text)
    return text or None


# ----------------------------------------------------------------------------- per service
# ----------------------------------------------------------------------------- where they may go
def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def scoped(headers: dict[str, str], *urls: str) -> dict[str, str]:
    """Declare that these credential headers belong to the service at `urls` (its own hosts, as
    the code and the registry name them, before the mirror map); the HTTP session sends them to no
    other host, whatever an API document or a redirect names. Returns `headers`."""
    hosts = frozenset(host_of(url) for url in urls)
    for value in headers.values():
        _SCOPES[value] = _SCOPES.get(value, frozenset()) | hosts
    return headers


def meant_for(url: str, headers):
    """`headers` without the credentials that belong to another host than `url`'s."""
    host = host_of(url)
    kept = {}
    for name, value in headers.items():
        scope = _SCOPES.get(value)
        if scope is not None and host not in scope:
            log.debug("not sending %s to %s: that credential belongs to %s", name, host,
                      ", ".join(sorted(scope)))
            continue
        kept[name] = value
    return kept


# ----------------------------------------------------------------------------- each service
def zenodo_headers() -> dict[str, str]:
    """`Authorization: Bearer $ZENODO_TOKEN` (only restricted records need it), or nothing."""
    token = constants.zenodo_token()
    return {"Authorization": f"Bearer {token}"} if token else {}


def grand_challenge_headers(required: bool = True) -> dict[str, str]:
    """`Authorization: Bearer <token>` from $GRAND_CHALLENGE_AUTHORIZATION ('Bearer x' or 'x')."""
    value = constants.env_value(constants.ENV_GRAND_CHALLENGE)
    if not value:
        if required:
            raise missing(GRAND_CHALLENGE, "Its archives are only served to signed-in users.")
        return {}
    token = value.split(None, 1)[1] if value.lower().startswith("bearer ") else value
    register_secret(token)
    return {"Authorization": f"Bearer {token.strip()}"}


def girder_api_key() -> str | None:
    """$GIRDER_API_KEY, exchanged for a session token (public data needs none)."""
    return constants.env_value(constants.ENV_GIRDER_API_KEY)


def _kaggle_access_token() -> str | None:
    """A new-style Kaggle token: $KAGGLE_API_TOKEN (a value or a file path), or access_token[.txt]."""
    value = constants.env_value(constants.ENV_KAGGLE_API_TOKEN)
    if value:
        as_path = Path(value).expanduser()
        if len(value) < 4096 and ("/" in value or value.startswith("~")) and as_path.is_file():
            return read_secret_file(as_path)
        return value
    folder = constants.kaggle_config_dir()
    for name in ("access_token", "access_token.txt"):
        token = read_secret_file(folder / name)
        if token:
            return token
    return None


def _kaggle_legacy_key() -> tuple[str, str] | None:
    """($KAGGLE_USERNAME, $KAGGLE_KEY), else kaggle.json's username and key."""
    username = constants.env_value(constants.ENV_KAGGLE_USERNAME)
    key = constants.env_value(constants.ENV_KAGGLE_KEY)
    if username and key:
        return username, key
    path = constants.kaggle_config_dir() / "kaggle.json"
    text = read_secret_file(path)
    if not text:
        return None
    try:
        document = json.loads(text)
        username, key = str(document["username"]), str(document["key"])
    except (ValueError, KeyError, TypeError):
        raise CredentialsError(f"{path} is not a Kaggle key file ({{\"username\": ..., \"key\": ...}}).",
                               f"Download a new one from {KAGGLE.where}.") from None
    register_secret(key)
    return username, key


def kaggle_headers() -> dict[str, str]:
    """Kaggle's Authorization header: a Bearer access token first, else HTTP Basic username:key."""
    token = _kaggle_access_token()
    if token:
        return {"Authorization": f"Bearer {token}"}
    legacy = _kaggle_legacy_key()
    if legacy:
        basic = base64.b64encode(f"{legacy[0]}:{legacy[1]}".encode()).decode()
        register_secret(basic)
        return {"Authorization": f"Basic {basic}"}
    raise missing(KAGGLE, f"No token in the environment or in {constants.kaggle_config_dir()}.")


def gdc_headers() -> dict[str, str]:
    """`X-Auth-Token: <token>` from $GDC_TOKEN, else from the file named by $GDC_TOKEN_FILE (what
    the GDC portal's 'Download Token' saves); nothing when neither is set (open files need none)."""
    token = constants.env_value(constants.ENV_GDC_TOKEN)
    if token:
        register_secret(token)
    else:
        name = constants.env_value(constants.ENV_GDC_TOKEN_FILE)
        if not name:
            return {}
        path = Path(name).expanduser()
        token = read_secret_file(path)
        if not token:
            raise CredentialsError(f"{constants.ENV_GDC_TOKEN_FILE} names {path}, which is missing or empty.",
                                   f"Save the token from {GDC.where} there, or unset the variable.")
    return {"X-Auth-Token": token}
