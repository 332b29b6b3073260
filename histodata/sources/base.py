"""What every source kind produces: a list of remote files with what is known of their bytes,
the contract a kind's module follows (`Provider`), and the helpers kind modules share."""
from __future__ import annotations

import logging
import posixpath
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..constants import CHECKSUM_ALGORITHMS
from ..errors import ChecksumError, DownloadError, HTTPAccessError, HTTPStatusError
from ..transfer import DownloadResult
from ..transfer.hashing import check_file, normalize_checksums
from ..transfer.retry import request_with_retries
from ..transfer.sanity import basic_auth_hint

log = logging.getLogger(__name__)


@dataclass
class RemoteFile:
    """One file to download into `<root>/<id>/raw/<name>`."""

    name: str                                   # relative '/'-separated path under raw/
    url: str                                    # where the bytes are (before the mirror map)
    size: int | None = None
    checksums: dict[str, str] = field(default_factory=dict)   # algorithm -> expected hex
    checksum_origin: str | None = None          # "registry", "provider" or None (unverified)
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # credentials: never logged
    source_kind: str = ""
    # A kind whose files need more than one plain GET (Drive's confirm form, Kaggle's RPC POST,
    # DSA region crops; `own_download` in its row of histodata.registry.kinds): the fetch flow calls
    # sources.kind_download(downloader)(remote, path, session, quiet=...) instead of the engine.
    downloader: str | None = None
    # What the service says about the file that a person selects on (`fetch --where FIELD=VALUE`)
    # and that ends in the manifest: e.g. project, case, collection, patient. Field names are
    # documented per kind; values are strings.
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def verified_by(self) -> str:
        """How the bytes will be checked, for messages: e.g. 'md5 (registry)' or 'size only'."""
        if self.checksums:
            return f"{'+'.join(sorted(self.checksums))} ({self.checksum_origin or 'provider'})"
        return "size only (unverified)" if self.size is not None else "unverified"


@runtime_checkable
class Provider(Protocol):
    """The contract of a source kind's module, `histodata/sources/<module>.py` (its row in
    `histodata.registry.kinds` names the module). The module itself is the provider: these are
    module-level functions.

    `list_files(source, session, entry)` turns one registry source (a validated
    `histodata.registry.models.Source`) into the files it holds, asking the service through
    `session` (the shared `histodata.http` session: mirror map, retries, rate limits; use
    `api_json`/`api_get` for API documents). `entry` is the whole registry Entry (for messages and
    instructions; may be None in tests). Each file is a RemoteFile with a safe relative `name` (use
    `remote_name`), the `url` its bytes come from, and what the service publishes of its `size` and
    `checksums` (algorithm names of `histodata.constants.CHECKSUM_ALGORITHMS`, see `checksum_name`),
    with `checksum_origin="provider"` when there are some. The fetch flow then applies the source's
    `checksums_file`, the registry's pins (`apply_pinned`) and `include`, and downloads every file
    with the download engine. Failures raise histodata errors: AccessError/CredentialsError for a
    permission problem (`api_get` raises HTTPAccessError for 401/403), DownloadError otherwise.
    """

    def list_files(self, source: Any, session: Any, entry: Any) -> list[RemoteFile]: ...


@runtime_checkable
class OwnDownload(Protocol):
    """What a kind with `own_download` in its row adds: files whose `RemoteFile.downloader` names the
    kind are downloaded by `download(remote, path, session, quiet=...)` instead of one plain GET.
    It must leave verified bytes at `path` (use the engine, `histodata.transfer.download`, for the
    transfer; `verify_local_file` for a file it made itself) and return a DownloadResult, or raise
    a histodata error. A `work_dir` keyword names where its bookkeeping and temporaries go (the
    dataset's `.partial/` folder, never raw/): pass it on to the engine and put temporaries there."""

    def download(self, remote: RemoteFile, path: Any, session: Any = None, *, quiet: bool | None = None,
                 **kwargs: Any) -> Any: ...


def apply_pinned(files: list[RemoteFile], pinned) -> list[RemoteFile]:
    """Registry (pinned) sizes and checksums win over the provider's, matched by file name.

    `pinned` is the source's `files` list from the registry (FileSpec models) or None.
    """
    by_name = {spec.name: spec for spec in pinned or []}
    for remote in files:
        spec = by_name.get(remote.name)
        if spec is None:
            continue
        if spec.checksums:
            remote.checksums = dict(spec.checksums)
            remote.checksum_origin = "registry"
        if spec.size is not None:
            remote.size = spec.size
    return files


def valid_text(name: str) -> str:
    """`name` as text every file system and JSON file can hold: bytes that were not UTF-8 (a file
    name from os.walk or os.listdir carries them as surrogate escapes, U+DC80-U+DCFF) become %XX,
    so distinct names stay distinct; any other lone surrogate (from a JSON `\\udXXX` escape)
    becomes U+FFFD."""
    if not any("\ud800" <= ch <= "\udfff" for ch in name):
        return name
    return "".join(f"%{ord(ch) - 0xDC00:02X}" if "\udc80" <= ch <= "\udcff"
                   else "\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in name)


def safe_relative_path(name: str) -> str:
    """A server-given name made safe to join under raw/: valid text (`valid_text`), no absolute
    paths, '..', drive letters or control characters. Raises ValueError when nothing usable is left."""
    cleaned = valid_text(name).replace("\\", "/")
    parts = []
    for part in cleaned.split("/"):
        part = "".join(ch for ch in part if ch >= " " and ch != "\x7f").strip()
        if part in ("", ".", ".."):
            continue
        if len(part) >= 2 and part[1] == ":":
            part = part.replace(":", "_")
        parts.append(part)
    if not parts:
        raise ValueError(f"unusable file name {name!r}")
    return posixpath.join(*parts)


# ----------------------------------------------------------------------------- shared helpers
# (added for the API-backed kinds: zenodo, figshare, dataverse, mendeley, s3, http, ftp)



def files_from_specs(source, kind: str) -> list[RemoteFile]:
    """Per-file-URL kinds (http, ftp): the registry's files are the listing."""
    return [RemoteFile(name=spec.name, url=spec.url, size=spec.size, checksums=dict(spec.checksums),
                       checksum_origin="registry" if spec.checksums else None, source_kind=kind)
            for spec in source.files or []]


def listed_plus_given(listed: list[RemoteFile], given: list[RemoteFile]) -> list[RemoteFile]:
    """A listing source's files: what the server listed, plus the registry's files that carry their
    own URL and are not listed (e.g. a label table beside the listed folder). Files without a URL
    only pin what is listed (applied later, by name)."""
    names = {remote.name for remote in listed}
    return listed + [remote for remote in given if remote.url and remote.name not in names]


def checksum_name(label: str) -> str | None:
    """A provider's algorithm label ('MD5', 'SHA-256', 'sha1') as hashlib's name, or None if unknown."""
    name = (label or "").lower().replace("-", "").replace("_", "")
    return name if name in CHECKSUM_ALGORITHMS else None


def _error_detail(response) -> str:
    """The server's own words about an error (JSON `message`, S3 XML `Code: Message`), short."""
    text = response.text[:2000] if response.content else ""
    try:
        document = response.json()
        if isinstance(document, dict) and document.get("message"):
            return str(document["message"])[:200]
    except ValueError:
        pass

    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    if code:
        return f"{code.group(1)}: {message.group(1) if message else ''}".strip(": ")[:200]
    return ""


def api_get(session, url: str, *, what: str, method: str = "GET", **kwargs):
    """GET (or `method`, e.g. a POSTed search) an API document (JSON/XML) with the shared retry
    policy (429, 5xx, Retry-After).

    An HTTP error status raises HTTPStatusError (`.status`, `.url`); 401/403 raise its subclass
    HTTPAccessError, which is also an AccessError (a permission problem). An empty 202 (a bot
    challenge, e.g. figshare's WAF) is refused rather than taken for a document.
    """
    response = request_with_retries(session, method, url, **kwargs)   # the session paces by rate limits
    status = response.status_code
    if status >= 400:
        detail = _error_detail(response)
        said = f" ({detail})" if detail else ""
        if status in (401, 403):
            raise HTTPAccessError(f"{what}: {url} answered HTTP {status}{said}: the data is not "
                                  "public or needs credentials.", basic_auth_hint(response.url, response.headers),
                                  status=status, url=url)
        raise HTTPStatusError(f"{what}: {url} answered HTTP {status}{said}.",
                              "Check the registry entry's ids, or try again later.", status=status, url=url)
    if status != 200 or not response.content:
        challenge = " (a bot challenge)" if response.headers.get("x-amzn-waf-action") else ""
        raise DownloadError(f"{what}: {url} answered HTTP {status} with an empty body{challenge}.",
                            "The service refused an automated client; try again later or another source.")
    return response


def api_json(session, url: str, *, what: str, **kwargs):
    """`api_get` and parse JSON; a non-JSON answer is a DownloadError."""
    response = api_get(session, url, what=what, **kwargs)
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("Content-Type")
        raise DownloadError(f"{what}: {url} did not answer JSON (got {kind}).",
                            "The service may be down or behind a login page; try again later.") from None


def xml_document(content: bytes, what: str):
    """A provider's XML answer parsed safely (no entity expansion, no external entities); XML that does
    not parse is a DownloadError naming `what`."""
    from defusedxml import ElementTree  # heavy: imported on first use

    try:
        return ElementTree.fromstring(content)
    except ElementTree.ParseError as err:
        raise DownloadError(f"{what} is not valid XML ({err}).",
                            "The service may be down or behind a login page; try again later.") from None


def size_from_range_probe(session, url: str) -> int | None:
    """A file's size from a one-byte Range GET (`Content-Range: bytes 0-0/<total>`), for services
    that publish no size and whose HEAD may lack a length; None when the server does not say (the
    download then checks what arrives)."""
    try:
        with session.get(url, headers={"Range": "bytes=0-0"}, stream=True, timeout=60) as response:
            total = re.fullmatch(r"bytes \d+-\d+/(\d+)", response.headers.get("Content-Range", "").strip())
            if response.status_code == 206 and total:
                return int(total.group(1))
            if response.status_code == 200 and response.headers.get("Content-Length", "").isdigit():
                return int(response.headers["Content-Length"])   # Range ignored: the whole length
    except Exception as err:  # noqa: BLE001 - a failed probe only means no size is known in advance
        log.debug("size probe of %s failed: %s", url, err)
    return None


def usable_file_name(name: str | None) -> str | None:
    """A server-given file name (`Content-Disposition`, a provider's `name`) reduced to its last
    path part; None when nothing usable is left (empty, quotes only, `.`, `..`, a NUL), so the
    caller falls back to the registry's name or the file's id."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip().strip('"').strip()
    if base in ("", ".", "..") or "\x00" in base:
        return None
    return base


def remote_name(*parts: str | None) -> str:
    """Join server-given folder and file names into one safe relative path."""
    strange = [p for p in parts if p is not None and not isinstance(p, str)]
    if strange:
        raise DownloadError(f"the server gave a file name that is not text: {strange[0]!r}.",
                            "Its API may have changed; try again later, or use another source of the entry.")
    joined = "/".join(p.strip("/") for p in parts if p and p.strip("/"))
    try:
        return safe_relative_path(joined)
    except ValueError:
        raise DownloadError(f"the server gave an unusable file name {joined!r}.") from None


# ----------------------------------------------------------------------------- made-locally files
def verify_local_file(path, remote: RemoteFile, *, url: str = "", resumed_from: int = 0):
    """Hash a file a kind module produced itself (a PNG made from a DSA crop, a member unzipped from
    Kaggle's storage answer) and check it against the remote's size and checksums, like the engine
    does for downloads. Returns a DownloadResult; on mismatch removes the file and raises ChecksumError."""
    path = Path(path)
    expected = normalize_checksums(remote.checksums)
    check = check_file(path, expected, remote.size)
    if not check.ok:
        path.unlink()
        raise ChecksumError(f"{remote.name} does not match what was expected: {'; '.join(check.problems)}.",
                            "The provider's copy may have changed; report it, or use another source.")
    return DownloadResult(path=path, size=check.size, hashes=check.digests, verified=sorted(expected),
                          resumed_from=resumed_from, url=url or remote.url)


def parallel_map(function, items: list, workers: int = 8) -> list:
    """`[function(x) for x in items]` with a few threads, order kept: for listings that need one
    API request per item (Girder item files, grand-challenge images)."""
    if len(items) <= 1:
        return [function(item) for item in items]

    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(function, items))
