"""Every environment variable histodata reads, in one place (read at call time, never cached)."""
from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "HISTODATA_HOME"
ENV_REGISTRY = "HISTODATA_REGISTRY"
ENV_MIRRORS = "HISTODATA_MIRRORS"
ENV_OFFLINE = "HISTODATA_OFFLINE"
ENV_CACHE = "HISTODATA_CACHE"
ENV_RETRIES = "HISTODATA_RETRIES"   # total tries per request (download engine, API calls)
ENV_BACKOFF = "HISTODATA_BACKOFF"   # base backoff delay in seconds (doubles per failure, jittered)
ENV_LOW_SPEED_LIMIT = "HISTODATA_LOW_SPEED_LIMIT"  # bytes/s below which a download counts as stalled (0: off)
ENV_LOW_SPEED_TIME = "HISTODATA_LOW_SPEED_TIME"    # seconds the speed must stay below that limit
ENV_ARCHIVE_MAX_BYTES = "HISTODATA_ARCHIVE_MAX_BYTES"      # bomb guard: most bytes an archive may expand to
ENV_ARCHIVE_MAX_RATIO = "HISTODATA_ARCHIVE_MAX_RATIO"      # bomb guard: most uncompressed/compressed ratio
ENV_ARCHIVE_MAX_MEMBERS = "HISTODATA_ARCHIVE_MAX_MEMBERS"  # bomb guard: most members in one archive
ENV_MAX_PAGES = "HISTODATA_MAX_PAGES"   # most pages one listing may take (sources.pager)
ENV_CONNECTIONS = "HISTODATA_CONNECTIONS"  # most connections for one large file (--connections; 1: off)
ENV_SEGMENT_MIN = "HISTODATA_SEGMENT_MIN"  # bytes from which a file is fetched in segments

# A listing that has not ended after this many pages is an error, not a silent truncation
# (50,000 pages: 50 million S3 keys, 10 million Kaggle files).
MAX_LISTING_PAGES = 50_000

# Credentials, named as each service's own tools name them.
ENV_ZENODO_TOKEN = "ZENODO_TOKEN"
ENV_GRAND_CHALLENGE = "GRAND_CHALLENGE_AUTHORIZATION"
ENV_KAGGLE_USERNAME = "KAGGLE_USERNAME"
ENV_KAGGLE_KEY = "KAGGLE_KEY"
ENV_KAGGLE_API_TOKEN = "KAGGLE_API_TOKEN"
ENV_KAGGLE_CONFIG_DIR = "KAGGLE_CONFIG_DIR"
ENV_GIRDER_API_KEY = "GIRDER_API_KEY"
ENV_GDC_TOKEN = "GDC_TOKEN"             # the token itself (controlled-access GDC files only)
ENV_GDC_TOKEN_FILE = "GDC_TOKEN_FILE"   # a file holding it, as gdc-client's --token-file

SECRET_ENV_VARS = (ENV_ZENODO_TOKEN, ENV_GRAND_CHALLENGE, ENV_KAGGLE_KEY, ENV_KAGGLE_API_TOKEN,
                   ENV_GIRDER_API_KEY, ENV_GDC_TOKEN)

APP_NAME = "histodata"
# The name pip knows it by ("histodata" on PyPI is an unrelated project); the import package and
# the command stay `histodata`.
DISTRIBUTION = "histodata-pathology"


# The documentation site (the pages of docs/, built with MkDocs): what help and errors point to, since
# a pip user has no docs/ folder.
DOCS_URL = "https://histodata.readthedocs.io"


def docs_page(page: str) -> str:
    """The address of one docs page, e.g. docs_page("credentials") -> .../credentials/."""
    return f"{DOCS_URL}/{page}/" if page else f"{DOCS_URL}/"


def install_command(extra: str | None = None) -> str:
    """The pip command that installs histodata (with an extra): what hints tell a person to run."""
    return f'pip install "{DISTRIBUTION}[{extra}]"' if extra else f"pip install {DISTRIBUTION}"

# The checksum algorithms histodata knows (registry fields, provider labels, manifests, --md5 ...),
# with the length of their hexadecimal digest.
CHECKSUM_ALGORITHMS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def data_root(override: str | os.PathLike | None = None) -> Path:
    """The data root: `override` (--root), else $HISTODATA_HOME, else the platform data folder."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir  # heavy: imported on first use

    return Path(user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Where histodata keeps caches (the registry index of extra folders, ...)."""
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir  # heavy: imported on first use

    return Path(user_cache_dir(APP_NAME, appauthor=False))


def extra_registry_dirs() -> list[Path]:
    """Folders listed in $HISTODATA_REGISTRY (OS path separator), in order."""
    raw = os.environ.get(ENV_REGISTRY, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def mirrors_spec() -> str:
    return os.environ.get(ENV_MIRRORS, "")


def offline() -> bool:
    """True when $HISTODATA_OFFLINE forbids network access."""
    return _truthy(os.environ.get(ENV_OFFLINE))


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "").strip() or default)
    except ValueError:
        return default


def retry_tries(default: int) -> int:
    """Total tries per request: $HISTODATA_RETRIES, else `default`."""
    return int(_env_number(ENV_RETRIES, default))


def retry_backoff(default: float) -> float:
    """Base backoff delay in seconds: $HISTODATA_BACKOFF, else `default`."""
    return _env_number(ENV_BACKOFF, default)


def low_speed(default_limit: float, default_time: float) -> tuple[float, float]:
    """(bytes per second, seconds): a download slower than this over that long is stalled;
    $HISTODATA_LOW_SPEED_LIMIT and $HISTODATA_LOW_SPEED_TIME (0 turns the guard off)."""
    return _env_number(ENV_LOW_SPEED_LIMIT, default_limit), _env_number(ENV_LOW_SPEED_TIME, default_time)


def connections(default: int) -> int:
    """Most connections for one large file: $HISTODATA_CONNECTIONS, else `default` (at least 1)."""
    return max(1, int(_env_number(ENV_CONNECTIONS, default)))


def segment_min(default: int) -> int:
    """Files at least this many bytes are fetched in segments: $HISTODATA_SEGMENT_MIN, else `default`."""
    return max(1, int(_env_number(ENV_SEGMENT_MIN, default)))


def zenodo_token() -> str | None:
    """$ZENODO_TOKEN (sent only as an `Authorization: Bearer` header), or None."""
    return os.environ.get(ENV_ZENODO_TOKEN, "").strip() or None


def max_pages() -> int:
    """Most pages one paged listing may take: $HISTODATA_MAX_PAGES, else MAX_LISTING_PAGES."""
    return max(1, int(_env_number(ENV_MAX_PAGES, MAX_LISTING_PAGES)))


def archive_limit(name: str, default: float) -> float:
    """An archive bomb-guard limit from the environment variable `name`, else `default`."""
    return _env_number(name, default)


def env_value(name: str) -> str | None:
    """The stripped value of environment variable `name`, or None when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or None


def kaggle_config_dir() -> Path:
    """Where Kaggle's own tools keep credentials: $KAGGLE_CONFIG_DIR, else ~/.kaggle."""
    return Path(env_value(ENV_KAGGLE_CONFIG_DIR) or Path.home() / ".kaggle").expanduser()
