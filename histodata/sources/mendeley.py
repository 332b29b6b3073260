"""`kind: mendeley` — a Mendeley Data dataset version's files from the public API, with SHA-256.

Files of the root folder and of every sub-folder (from the version's folder list) are listed;
each file keeps its folder path. The public API refuses default library user agents with 403,
so its requests carry a browser-compatible agent.
"""
from __future__ import annotations

from .. import __version__
from ..errors import AccessError, DownloadError, HTTPStatusError
from .base import RemoteFile, api_json, remote_name

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
        remotes += [remote_file(dataset, path, f) for f in listing or [] if isinstance(f, dict)]
    if not remotes:
        raise DownloadError(f"Mendeley Data dataset {dataset} version {version} lists no files.")
    return remotes


def latest_version(session, dataset: str):
    metadata = api_json(session, f"{API}/datasets/{dataset}", what=what(dataset), headers=HEADERS)
    if not metadata.get("version"):
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
    by_id = {str(f["id"]): f for f in folders or [] if isinstance(f, dict) and f.get("id")}

    def path(folder_id: str, depth: int = 0) -> str:
        folder = by_id.get(folder_id)
        if folder is None or depth > 50:
            return ""
        parent = str(folder.get("parent_id") or "")
        above = path(parent, depth + 1) if parent in by_id else ""
        return "/".join(p for p in (above, folder.get("name", "")) if p)

    return {folder_id: path(folder_id) for folder_id in by_id}


def remote_file(dataset: str, folder: str, f: dict) -> RemoteFile:
    content = f.get("content_details") or {}
    sha256 = (content.get("sha256_hash") or "").lower()
    size = f.get("size") if f.get("size") is not None else content.get("size")
    url = (content.get("download_url")
           or f"{SITE}/public-files/datasets/{dataset}/files/{f['id']}/file_downloaded")
    return RemoteFile(name=remote_name(folder, f.get("filename")), url=url,
                      size=int(size) if size is not None else None,
                      checksums={"sha256": sha256} if sha256 else {},
                      checksum_origin="provider" if sha256 else None, source_kind="mendeley",
                      headers={"User-Agent": HEADERS["User-Agent"]})
