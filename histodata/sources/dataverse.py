"""`kind: dataverse` — a dataset's files from a Dataverse installation's native API.

The dataset is found by `:persistentId`; files are downloaded through the access API. Ingested
tabular files are fetched as the uploaded original (`?format=original`), saved under the
original's name and checked against the original's size and checksum (the published checksum
belongs to the original, not to the archival `.tab`).
"""
from __future__ import annotations

from urllib.parse import quote

from ..errors import AccessError, DownloadError
from .base import RemoteFile, api_json, checksum_name, remote_name


def persistent_id(doi: str) -> str:
    """'10.7910/DVN/X', 'doi:10.7910/DVN/X' or a doi.org URL as 'doi:10.7910/DVN/X'."""
    bare = doi.strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"):
        if bare.lower().startswith(prefix):
            bare = bare[len(prefix):]
    return f"doi:{bare}"


def list_files(source, session, entry) -> list[RemoteFile]:
    server = source.server.rstrip("/")
    pid = persistent_id(source.doi)
    version = dataset_version(session, server, pid, source.version)
    files = version.get("files") or []
    restricted = [f.get("label") for f in files if f.get("restricted")]
    if restricted:
        raise AccessError(f"{len(restricted)} file(s) of Dataverse dataset {pid} are restricted "
                          f"(e.g. {restricted[0]!r}): the dataset cannot be fetched anonymously.")
    if not files:
        raise DownloadError(f"Dataverse dataset {pid} on {server} lists no files.")
    return [remote_file(server, f) for f in files]


def dataset_version(session, server: str, pid: str, version) -> dict:
    """The requested version's JSON (default: the dataset's latest version)."""
    what = f"Dataverse dataset {pid}"
    params = {"persistentId": pid}
    if version not in (None, ""):
        url = f"{server}/api/datasets/:persistentId/versions/{quote(str(version), safe=':.')}"
        return _data(api_json(session, url, what=what, params=params), what)
    dataset = _data(api_json(session, f"{server}/api/datasets/:persistentId", what=what, params=params), what)
    return dataset.get("latestVersion") or {}


def _data(document, what: str) -> dict:
    if not (isinstance(document, dict) and document.get("status") == "OK"
            and isinstance(document.get("data"), dict)):
        message = document.get("message") if isinstance(document, dict) else None
        raise DownloadError(f"{what}: the server did not answer a Dataverse document"
                            + (f" ({message})" if message else "") + ".")
    return document["data"]


def file_checksums(data_file: dict) -> dict[str, str]:
    """`checksum: {type, value}` (MD5, SHA-1, SHA-256, SHA-512), else the older `md5` field."""
    checksum = data_file.get("checksum") or {}
    algorithm = checksum_name(checksum.get("type", ""))
    if algorithm and checksum.get("value"):
        return {algorithm: checksum["value"].lower()}
    return {"md5": data_file["md5"].lower()} if data_file.get("md5") else {}


def remote_file(server: str, f: dict) -> RemoteFile:
    data_file = f.get("dataFile") or {}
    url = f"{server}/api/access/datafile/{data_file['id']}"
    name, size = data_file.get("filename") or f.get("label"), data_file.get("filesize")
    if data_file.get("tabularData"):  # the checksum is the original's: fetch and name the original
        url += "?format=original&gbrecs=true"
        name, size = data_file.get("originalFileName") or name, data_file.get("originalFileSize")
    else:
        url += "?gbrecs=true"
    checksums = file_checksums(data_file)
    return RemoteFile(name=remote_name(f.get("directoryLabel"), name), url=url,
                      size=int(size) if size is not None else None, checksums=checksums,
                      checksum_origin="provider" if checksums else None, source_kind="dataverse")
