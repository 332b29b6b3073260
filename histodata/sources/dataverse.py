"""`kind: dataverse` — a dataset's files from a Dataverse installation's native API.

The dataset is found by `:persistentId`; files are downloaded through the access API. Ingested
tabular files are fetched as the uploaded original (`?format=original`), saved under the
original's name and checked against the original's size and checksum (the published checksum
belongs to the original, not to the archival `.tab`).
"""
from __future__ import annotations

from urllib.parse import quote

from ..errors import AccessError, DownloadError
from . import untrusted
from .base import RemoteFile, api_json, checksum_name, remote_name

SERVICE = "Dataverse"


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
    files = untrusted.records(version.get("files"), SERVICE, f"the files of {pid}")
    restricted = [f.get("label") for f in files if untrusted.flag(f, "restricted", SERVICE)]
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
    return untrusted.mapping(dataset, "latestVersion", SERVICE, what=f"{what}: latestVersion")


def _data(document, what: str) -> dict:
    if not (isinstance(document, dict) and document.get("status") == "OK"
            and isinstance(document.get("data"), dict)):
        message = document.get("message") if isinstance(document, dict) else None
        raise DownloadError(f"{what}: the server did not answer a Dataverse document"
                            + (f" ({message})" if message else "") + ".")
    return document["data"]


def file_checksums(data_file: dict) -> dict[str, str]:
    """`checksum: {type, value}` (MD5, SHA-1, SHA-256, SHA-512), else the older `md5` field."""
    checksum = untrusted.mapping(data_file, "checksum", SERVICE, what="a file's checksum")
    algorithm = checksum_name(untrusted.text(checksum, "type", SERVICE, what="a checksum's type") or "")
    value = untrusted.text(checksum, "value", SERVICE, what="a checksum's value")
    if algorithm and value:
        return {algorithm: value.lower()}
    md5 = untrusted.text(data_file, "md5", SERVICE, what="a file's md5")
    return {"md5": md5.lower()} if md5 else {}


def remote_file(server: str, f: dict) -> RemoteFile:
    data_file = untrusted.mapping(f, "dataFile", SERVICE, what="a file's dataFile")
    url = f"{server}/api/access/datafile/{untrusted.identifier(data_file, 'id', SERVICE, what='a file id')}"
    name = (untrusted.text(data_file, "filename", SERVICE, what="a file's filename")
            or untrusted.text(f, "label", SERVICE, what="a file's label"))
    size = untrusted.count(data_file, "filesize", SERVICE, what=f"the filesize of {name!r}")
    if untrusted.flag(data_file, "tabularData", SERVICE):  # the checksum is the original's: fetch the original
        url += "?format=original&gbrecs=true"
        name = untrusted.text(data_file, "originalFileName", SERVICE, what="a file's originalFileName") or name
        size = untrusted.count(data_file, "originalFileSize", SERVICE, what=f"the originalFileSize of {name!r}")
    else:
        url += "?gbrecs=true"
    checksums = file_checksums(data_file)
    folder = untrusted.text(f, "directoryLabel", SERVICE, what=f"the directoryLabel of {name!r}")
    return RemoteFile(name=remote_name(folder, name), url=url, size=size, checksums=checksums,
                      checksum_origin="provider" if checksums else None, source_kind="dataverse")
