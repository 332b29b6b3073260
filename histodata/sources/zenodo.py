"""`kind: zenodo` — a record's files from the Zenodo REST API (InvenioRDM and the older shapes).

Tolerates the three JSON shapes of `files` (a list with `key` and `md5:` checksums, the 2023
transitional list with `filename`/`filesize` and bare md5s, and the native `entries` dict),
follows `versions/latest`, and resolves concept ids (which may 404 on `/api/records/<id>`)
through `/versions/latest` and then the concept DOI. `$ZENODO_TOKEN` travels only in an
`Authorization: Bearer` header, never in a URL.
"""
from __future__ import annotations

import re
from urllib.parse import quote, urlparse

from .. import credentials
from ..errors import AccessError, DownloadError, HTTPStatusError
from . import untrusted
from .base import RemoteFile, api_json, checksum_name, remote_name

SITE = "https://zenodo.org"
API = f"{SITE}/api"
DOI_RESOLVER = "https://doi.org"
DOI_PREFIX = "10.5281/zenodo."
SERVICE = "Zenodo"
CHECK_ID = "Check the record id in the registry entry."


def list_files(source, session, entry) -> list[RemoteFile]:
    """The files of the source's record (or of its latest version with `version: latest`)."""
    headers = credentials.scoped(credentials.zenodo_headers(), SITE)
    record = untrusted.document(fetch_record(session, source.record, str(source.version or "") == "latest",
                                             headers), SERVICE, f"Zenodo record {source.record}")
    recid = str(untrusted.identifier(record, "id", SERVICE, required=False)
                or untrusted.identifier(record, "recid", SERVICE, required=False) or source.record)
    files = untrusted.records(file_entries(record), SERVICE, f"the files of record {recid}")
    if not files:
        files = listed_files(session, record, headers)
    if not files:
        raise_no_files(record, recid)
    return [remote_file(f, recid, headers) for f in files]


def fetch_record(session, record_id: str, latest: bool, headers: dict) -> dict:
    """The record JSON; a concept id that 404s is resolved to its latest version."""
    what = f"Zenodo record {record_id}"
    if latest:
        return api_json(session, f"{API}/records/{record_id}/versions/latest", what=what, headers=headers)
    try:
        return api_json(session, f"{API}/records/{record_id}", what=what, headers=headers)
    except HTTPStatusError as err:
        if err.status != 404:
            raise
    try:  # a concept (parent) id: any id's latest version
        return api_json(session, f"{API}/records/{record_id}/versions/latest", what=what, headers=headers)
    except HTTPStatusError as err:
        if err.status != 404:
            raise
    latest_id = resolve_concept_doi(session, record_id)
    return api_json(session, f"{API}/records/{latest_id}", what=what, headers=headers)


def resolve_concept_doi(session, record_id: str) -> str:
    """The record id that the DOI 10.5281/zenodo.<id> lands on (the latest version of a concept)."""
    url = f"{DOI_RESOLVER}/{DOI_PREFIX}{record_id}"
    try:
        response = session.get(url, stream=True, allow_redirects=True)
        response.close()
    except Exception as err:  # noqa: BLE001 - requests' many network errors: one clear message
        raise DownloadError(f"Zenodo record {record_id} was not found and its DOI could not be resolved "
                            f"({type(err).__name__}).", CHECK_ID) from None
    match = re.search(r"/records?/(\d+)/?$", urlparse(response.url).path)
    if response.status_code >= 400 or not match:
        raise DownloadError(f"Zenodo record {record_id} does not exist (the API and {url} did not lead "
                            "to a record).", "Check the record id in the registry entry.")
    return match.group(1)


def file_entries(record: dict) -> list:
    """`files` of any shape as a list of file dicts (native shape: `files.entries` keyed by name)."""
    files = record.get("files")
    if isinstance(files, dict):
        files = files.get("entries")
        if isinstance(files, dict):
            files = list(files.values())
    return files if isinstance(files, list) else []


def listed_files(session, record: dict, headers: dict) -> list:
    """Files from the record's `/files` listing (when the record JSON carries none)."""
    url = untrusted.text(untrusted.mapping(record, "links", SERVICE, what="the record's links"), "files", SERVICE,
                         what="the record's links.files")
    if not url or is_restricted(record):
        return []
    listing = api_json(session, url, what="Zenodo file listing", headers=headers)
    return untrusted.records(file_entries({"files": listing}), SERVICE, "the record's file listing")


def is_restricted(record: dict) -> bool:
    """Files hidden from guests: restricted/embargoed/closed (legacy or native fields)."""
    access = untrusted.mapping(record, "access", SERVICE, what="the record's access")
    right = untrusted.mapping(record, "metadata", SERVICE, what="the record's metadata").get("access_right", "open")
    embargo = untrusted.mapping(access, "embargo", SERVICE, what="the record's access.embargo").get("active")
    hidden_right = right in ("restricted", "embargoed", "closed")
    return hidden_right or access.get("files") == "restricted" or bool(embargo)


def raise_no_files(record: dict, recid: str):
    if is_restricted(record):
        raise AccessError(f"Zenodo record {recid} is restricted or embargoed: its files are not public.",
                          "Request access on the record's page and set $ZENODO_TOKEN, or use --from.")
    raise DownloadError(f"Zenodo record {recid} lists no files.", CHECK_ID)


def parse_checksum(value) -> dict[str, str]:
    """'md5:abc' or a bare 'abc' (md5) as {'md5': 'abc'}; an algorithm histodata cannot check
    is left out."""
    if not value or not isinstance(value, str):
        return {}
    algorithm, _, digest = value.rpartition(":")
    name = checksum_name(algorithm or "md5")
    return {name: digest.lower()} if name else {}


def content_url(f: dict, recid: str, key: str) -> str:
    """Where the bytes are: `links.content`, the current `links.self` (…/content) or the legacy
    bucket link; the 2023 transitional shape's `self` is broken, so `download` or the UI path."""
    links = untrusted.mapping(f, "links", SERVICE, what=f"the links of {key!r}")
    self_link = untrusted.text(links, "self", SERVICE, what=f"links.self of {key!r}") or ""
    content = untrusted.text(links, "content", SERVICE, what=f"links.content of {key!r}")
    if content:
        return content
    if self_link.endswith("/content") or (self_link and "bucket" in f):
        return self_link
    download = untrusted.text(links, "download", SERVICE, what=f"links.download of {key!r}")
    if download:
        return download
    return f"{SITE}/records/{recid}/files/{quote(key)}?download=1"


def remote_file(f: dict, recid: str, headers: dict) -> RemoteFile:
    key = (untrusted.text(f, "key", SERVICE, what=f"a file's key in record {recid}")
           or untrusted.text(f, "filename", SERVICE, what=f"a file's filename in record {recid}"))
    if not key:
        raise DownloadError(f"Zenodo record {recid} has a file without a name.")
    size = untrusted.count(f, "size", SERVICE, what=f"the size of {key!r}")
    if size is None:
        size = untrusted.count(f, "filesize", SERVICE, what=f"the filesize of {key!r}")
    checksums = parse_checksum(untrusted.text(f, "checksum", SERVICE, what=f"the checksum of {key!r}"))
    return RemoteFile(name=remote_name(key), url=content_url(f, recid, key), size=size, checksums=checksums,
                      checksum_origin="provider" if checksums else None, headers=dict(headers),
                      source_kind="zenodo")
