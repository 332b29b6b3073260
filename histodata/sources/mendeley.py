"""`kind: mendeley` — a Mendeley Data dataset version's files from the public API, with SHA-256.

Files of the root folder and of every sub-folder (from the version's folder list) are listed;
each file keeps its folder path. The public API refuses default library user agents with 403,
so its requests carry a browser-compatible agent.
"""
from __future__ import annotations

from .. import __version__
from ..errors import AccessError, DownloadError, HTTPStatusError
from . import untrusted
from .base import RemoteFile, api_json, remote_name

SERVICE = "Mendeley Data"
SITE = "https://data.mendeley.com"
API = f"{SITE}/public-api"
HEADERS = {"Accept": "application/vnd.mendeley-public-dataset.1+json",
           "User-Agent": f"Mozilla/5.0 (compatible; histodata/{__version__})"}


def what(dataset: str) -> str:
    return f"Mendeley Data dataset {dataset}"


def list_files(source, session, entry) -> list[RemoteFile]:
    dataset = source.dataset
    version = source.version or latest_version(session, dataset)
    folders = folder_paths(session, dataset, version)
    remotes = []
    for folder_id, path in [("root", ""), *folders.items()]:
        listing = api_json(session, f"{API}/datasets/{dataset}/files", what=what(dataset),
                           params={"folder_id": folder_id, "version": version}, headers=HEADERS)
        remotes += [remote_file(dataset, path, f) for f in untrusted.records(listing, SERVICE, what(dataset))]
    if not remotes:
        raise DownloadError(f"Mendeley Data dataset {dataset} version {version} lists no files.")
    return remotes


def latest_version(session, dataset: str):
    metadata = untrusted.document(api_json(session, f"{API}/datasets/{dataset}", what=what(dataset), headers=HEADERS),
                                  SERVICE, what(dataset))
    if not untrusted.identifier(metadata, "version", SERVICE, required=False):
        raise DownloadError(f"Mendeley Data dataset {dataset}: the API gave no version number.",
                            "Set `version` in the registry entry's source.")
    return metadata["version"]


def folder_paths(session, dataset: str, version) -> dict[str, str]:
    """{folder id: 'parent/child'} for every sub-folder; none when the API has no folder list."""
    try:
        folders = api_json(session, f"{API}/datasets/{dataset}/folders", what=what(dataset),
                           params={"version": version}, headers=HEADERS)
    except HTTPStatusError as err:
        if err.status < 500 and not isinstance(err, AccessError):   # no folder list on this server: root only
            return {}
        raise
    by_id = {untrusted.identifier(f, "id", SERVICE, what="a folder id"): f
             for f in untrusted.records(folders, SERVICE, f"the folders of {what(dataset)}") if f.get("id")}

    def path(folder_id: str) -> str:
        """The folder's names from the top; a parent chain that loops stops where it repeats."""
        names, seen = [], set()
        while folder_id in by_id and folder_id not in seen:
            seen.add(folder_id)
            folder = by_id[folder_id]
            names.append(untrusted.text(folder, "name", SERVICE, what="a folder's name") or "")
            folder_id = untrusted.identifier(folder, "parent_id", SERVICE, what="a folder's parent_id",
                                             required=False) or ""
        return "/".join(name for name in reversed(names) if name)

    return {folder_id: path(folder_id) for folder_id in by_id}


def remote_file(dataset: str, folder: str, f: dict) -> RemoteFile:
    content = untrusted.mapping(f, "content_details", SERVICE, what="a file's content_details")
    sha256 = (untrusted.text(content, "sha256_hash", SERVICE, what="a file's sha256_hash") or "").lower()
    size = untrusted.count(f, "size", SERVICE, what="a file's size")
    if size is None:
        size = untrusted.count(content, "size", SERVICE, what="a file's size")
    url = (untrusted.text(content, "download_url", SERVICE, what="a file's download_url")
           or f"{SITE}/public-files/datasets/{dataset}/files/"
              f"{untrusted.identifier(f, 'id', SERVICE, what='a file id')}/file_downloaded")
    return RemoteFile(name=remote_name(folder, untrusted.text(f, "filename", SERVICE, what="a file's filename")),
                      url=url, size=size,
                      checksums={"sha256": sha256} if sha256 else {},
                      checksum_origin="provider" if sha256 else None, source_kind="mendeley",
                      headers={"User-Agent": HEADERS["User-Agent"]})
