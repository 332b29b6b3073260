"""Kaggle competitions and datasets over Kaggle's RPC API (what kagglesdk >= 1.7 speaks).

`POST https://api.kaggle.com/v1/<service>/<Method>` with a camelCase JSON body:
`competitions.CompetitionApiService/ListDataFiles` and `datasets.DatasetApiService/ListDatasetFiles`
list names and sizes (paged by `nextPageToken`); `.../DownloadDataFile` and
`.../DownloadDataset` (with `fileName`) answer with a redirect to signed storage, whose URL our
engine then streams, resumes and verifies (the storage host never sees the credentials).
The kaggle package is not used: its hosts are hard-coded.

Credentials (histodata.credentials): KAGGLE_API_TOKEN / ~/.kaggle/access_token (Bearer), else
KAGGLE_USERNAME + KAGGLE_KEY / ~/.kaggle/kaggle.json (Basic). A competition whose rules were not
accepted answers 403; the error gives the rules page to accept them on.
Registry fields: `competition` (slug) or `dataset` (`owner/slug`), optional `version`.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit

from .. import archives, credentials
from ..errors import DownloadError, HistodataError, HTTPAccessError, HTTPStatusError
from ..http import new_session
from ..transfer import download as engine_download
from ..transfer.retry import request_with_retries
from . import untrusted
from .base import RemoteFile, apply_pinned, remote_name, verify_local_file
from .pager import follow

log = logging.getLogger(__name__)

KIND = "kaggle"
API = "https://api.kaggle.com/v1"
WEB = "https://www.kaggle.com"
COMPETITIONS = "competitions.CompetitionApiService"
DATASETS = "datasets.DatasetApiService"
PAGE_SIZE = 200


def rpc_url(service: str, method: str) -> str:
    return f"{API}/{service}/{method}"


def call(session, service: str, method: str, body: dict, headers: dict, *, subject: str,
         allow_redirects: bool = True):
    """POST one RPC; Kaggle's errors (HTTP status or JSON `code`) become histodata errors."""
    url = rpc_url(service, method)
    response = request_with_retries(session, "POST", url, json=body, allow_redirects=allow_redirects,
                                    headers={**headers, "Content-Type": "application/json",
                                             "Accept": "application/json"})
    document = _json(response)
    code = response.status_code
    if code < 400 and isinstance(document, dict) and isinstance(document.get("code"), int):
        code = document["code"] if document["code"] >= 400 else code
    if code >= 400:
        raise kaggle_error(code, (document or {}).get("message", "") if isinstance(document, dict) else "",
                           subject)
    return response, document


def _json(response):
    if "json" not in response.headers.get("Content-Type", ""):
        return None
    try:
        return response.json()
    except ValueError:
        return None


def kaggle_error(code: int, message: str, subject: str) -> Exception:
    said = f": {message}" if message else ""
    if code == 401:
        return credentials.refused(credentials.KAGGLE, 401, message)
    if code == 403 and subject.startswith("competitions/"):
        slug = subject.split("/", 1)[1]
        return HTTPAccessError(f"Kaggle refuses the files of the competition {slug!r} (HTTP 403{said}).",
                               "Accept the competition's rules while signed in at "
                               f"{WEB}/competitions/{slug}/rules "
                               "(it cannot be done through the API), then run the command again.", status=403)
    if code == 403:
        return HTTPAccessError(f"Kaggle refuses access to {subject} (HTTP 403{said}).",
                               f"Open {WEB}/{subject} while signed in and accept its terms or rules; some "
                               "closed competitions take no new entrants.", status=403)
    if code == 404:
        return HTTPStatusError(f"Kaggle has no {subject} (HTTP 404{said}).",
                               "Check the slug in the registry entry.", status=404)
    return HTTPStatusError(f"Kaggle answered HTTP {code} for {subject}{said}.", "Try again later.",
                           status=code)


# ----------------------------------------------------------------------------- listing
def list_files(source, session, entry) -> list[RemoteFile]:
    """Every file of the competition or dataset, with its size (Kaggle publishes no checksums)."""
    headers = credentials.scoped(credentials.kaggle_headers(), API)
    if source.competition:
        files = _competition_files(session, source.competition, headers)
    else:
        files = _dataset_files(session, source.dataset, source.version, headers)
    return apply_pinned(files, source.files)


def _pages(session, service: str, method: str, body: dict, key: str, headers: dict, subject: str):
    """Every file record of a listing RPC, following `nextPageToken` under the pager's rule."""
    def page(token):
        _, document = call(session, service, method, {**body, "pageSize": PAGE_SIZE, "pageToken": token or ""},
                           headers, subject=subject)
        document = untrusted.document(document or {}, "Kaggle", f"the listing of {subject}")
        if document.get("errorMessage"):
            raise DownloadError(f"Kaggle could not list {subject}: {document['errorMessage']}.")
        files = untrusted.records(document.get(key), "Kaggle", f"the listing of {subject}")
        return files, untrusted.text(document, "nextPageToken", "Kaggle")

    yield from follow(f"Kaggle ({subject})", page, key=lambda file: file.get("name"))


def _competition_files(session, slug: str, headers: dict) -> list[RemoteFile]:
    subject = f"competitions/{slug}"
    return [_remote(file, rpc_url(COMPETITIONS, "DownloadDataFile"),
                    {"competitionName": slug, "fileName": _name(file)}, headers)
            for file in _pages(session, COMPETITIONS, "ListDataFiles", {"competitionName": slug},
                               "files", headers, subject)]


def _dataset_files(session, ref: str, version, headers: dict) -> list[RemoteFile]:
    owner, _, slug = str(ref).partition("/")
    if not owner or not slug:
        raise DownloadError(f"the Kaggle dataset {ref!r} must be written owner/slug.")
    body = {"ownerSlug": owner, "datasetSlug": slug}
    if version:
        body["datasetVersionNumber"] = int(version)
    return [_remote(file, rpc_url(DATASETS, "DownloadDataset"), {**body, "fileName": _name(file)}, headers)
            for file in _pages(session, DATASETS, "ListDatasetFiles", body, "datasetFiles", headers,
                               f"datasets/{ref}")]


def _name(file: dict) -> str:
    return untrusted.text(file, "name", "Kaggle", what="a file's name", required=True)


def _remote(file: dict, url: str, body: dict, headers: dict) -> RemoteFile:
    """The RPC's body travels in the URL's query (readable in --dry-run); `download` posts it."""
    return RemoteFile(name=remote_name(body["fileName"]), url=f"{url}?{urlencode(body)}",
                      size=untrusted.count(file, "totalBytes", "Kaggle", what=f"the size of {body['fileName']!r}"),
                      headers=dict(headers),
                      source_kind=KIND, downloader=KIND)


# ----------------------------------------------------------------------------- downloading
def download(remote: RemoteFile, path, session=None, *, quiet=None, **kwargs):
    """POST the download RPC, take the storage URL it redirects to, and stream it with the engine.
    When Kaggle serves a listed file zipped (`train.csv` as `train.csv.zip`), its one member is
    unzipped into place and checked against the listing."""
    session = session or new_session()
    storage_url = storage_location(session, remote)
    if not served_zipped(remote.name, storage_url):
        return engine_download(storage_url, path, remote.checksums, remote.size, session=session, quiet=quiet,
                               **kwargs)
    path = Path(path)
    archive = Path(kwargs.get("work_dir") or path.parent) / (path.name + ".zip")   # never over a listed file
    fetched = engine_download(storage_url, archive, session=session, quiet=quiet, **kwargs)
    unzip_single_member(archive, path)
    return verify_local_file(path, remote, url=storage_url, resumed_from=fetched.resumed_from)


def served_zipped(name: str, storage_url: str) -> bool:
    served = unquote(urlsplit(storage_url).path.rsplit("/", 1)[-1])
    return served.lower().endswith(".zip") and not name.lower().endswith(".zip")


def unzip_single_member(archive: Path, target: Path) -> None:
    """Extract the archive's only file to `target` (atomically, under the archives' bomb guard),
    then remove the archive; on any failure nothing is left behind (neither the zip nor a
    temporary). Bytes that are not a zip after all are the file itself."""
    try:
        if not archives.unzip_single(archive, target):
            os.replace(archive, target)
            return
    except HistodataError:
        archive.unlink(missing_ok=True)
        raise
    archive.unlink()


def storage_location(session, remote: RemoteFile) -> str:
    """Where the bytes are: the redirect (Location, or an HttpRedirect body) of the download RPC."""
    url, _, query = remote.url.partition("?")
    body = {k: (int(v) if k == "datasetVersionNumber" else v) for k, v in parse_qsl(query)}
    service, method = url.rsplit("/", 2)[-2:]
    subject = (f"competitions/{body['competitionName']}" if "competitionName" in body
               else f"datasets/{body.get('ownerSlug')}/{body.get('datasetSlug')}")
    response, document = call(session, service, method, body, remote.headers, subject=subject,
                              allow_redirects=False)
    location = response.headers.get("Location")
    if 300 <= response.status_code < 400 and location:
        return urljoin(response.url, location)
    if isinstance(document, dict) and document.get("url"):
        return untrusted.text(document, "url", "Kaggle", what=f"the download URL of {remote.name}")
    raise DownloadError(f"Kaggle did not say where {remote.name} is (HTTP {response.status_code}, "
                        f"{response.headers.get('Content-Type', 'no content type')}).",
                        "Try again later; the Kaggle API may have changed.")

