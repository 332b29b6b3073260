"""A Mendeley Data emulator (public API), faithful to the reference page:

* `GET /public-api/datasets/{id}` -> metadata with `version`; 404 for unknown ids.
* `GET /public-api/datasets/{id}/folders?version=N` -> `[{"id", "name", "parent_id"}]`.
* `GET /public-api/datasets/{id}/files?folder_id=root|<id>&version=N` -> `[{"filename", "id", "size",
  "content_details": {"sha256_hash", "download_url", "download_expiry_time", …}}]`.
* `download_url` is a signed, expiring storage URL on a separate host (Range works);
  `/public-files/datasets/{id}/files/{uuid}/file_downloaded` redirects to it.
* The API refuses library user agents (`Python-urllib`, `python-requests`) with 403.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from .service import Emulator, EmulatorServer, Reply, Request, file_reply, json_reply

SITE = "https://data.mendeley.com"
STORAGE = "https://prod-dcd-datasets-public-files-eu-west-1.s3.eu-west-1.amazonaws.com"
REFUSED_AGENTS = ("python-urllib", "python-requests")


@dataclass
class MendeleyEmulator(Emulator):
    ORIGINS = {SITE: "api", STORAGE: "storage"}

    api: EmulatorServer = field(default_factory=EmulatorServer)
    storage: EmulatorServer = field(default_factory=EmulatorServer)
    datasets: dict[str, dict] = field(default_factory=dict)   # id -> {"version", "files": {path: bytes}}
    blobs: dict[str, bytes] = field(default_factory=dict)
    publish_sha256: bool = True

    def __post_init__(self):
        self.api.route("GET", r"/public-api/datasets/(?P<id>\w+)")(self.metadata)
        self.api.route("GET", r"/public-api/datasets/(?P<id>\w+)/folders")(self.folders)
        self.api.route("GET", r"/public-api/datasets/(?P<id>\w+)/files")(self.files)
        self.api.route("GET", r"/public-files/datasets/(?P<id>\w+)/files/(?P<uuid>[\w-]+)/file_downloaded")(
            self.public_file)
        self.storage.route("GET", r"/(?P<uuid>[\w-]+)")(self.stored)
        self.api.dispatch = self._refuse_libraries(self.api.dispatch)

    def add(self, dataset: str, files: dict[str, bytes], version: int = 1) -> None:
        entries = {}
        for path, data in files.items():
            key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{dataset}/{version}/{path}"))
            self.blobs[key] = data
            entries[path] = key
        self.datasets[dataset] = {"version": version, "files": entries}

    def _refuse_libraries(self, dispatch):
        def wrapped(request: Request) -> Reply:
            agent = request.headers.get("user-agent", "").lower()
            if any(agent.startswith(refused) for refused in REFUSED_AGENTS):
                return Reply(403, "<html><body>Forbidden</body></html>", content_type="text/html")
            return dispatch(request)
        return wrapped

    def _dataset(self, request: Request) -> dict:
        dataset = self.datasets.get(request.params["id"])
        asked = str(request.query.get("version", dataset["version"])) if dataset else None
        if dataset is None or asked != str(dataset["version"]):
            raise json_reply({"message": "Dataset not found"}, 404)
        return dataset

    def _folder_ids(self, dataset_id: str, dataset: dict) -> dict[str, str]:
        """{'a/b': folder id} for every folder holding files."""
        folders = set()
        for path in dataset["files"]:
            parts = path.split("/")[:-1]
            folders.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        return {path: str(uuid.uuid5(uuid.NAMESPACE_URL, f"{dataset_id}/folder/{path}")) for path in folders}

    def metadata(self, request: Request) -> Reply:
        dataset = self._dataset(request)
        return json_reply({"id": request.params["id"], "version": dataset["version"], "name": "a dataset",
                           "data_licence": {"short_name": "CC BY 4.0"},
                           "doi": {"id": f"10.17632/{request.params['id']}.{dataset['version']}"}})

    def folders(self, request: Request) -> Reply:
        ids = self._folder_ids(request.params["id"], self._dataset(request))
        return json_reply([{"id": folder_id, "name": path.rsplit("/", 1)[-1],
                            **({"parent_id": ids[path.rsplit("/", 1)[0]]} if "/" in path else {})}
                           for path, folder_id in ids.items()])

    def files(self, request: Request) -> Reply:
        dataset = self._dataset(request)
        ids = self._folder_ids(request.params["id"], dataset)
        wanted = request.query.get("folder_id", "root")
        listing = []
        for path, key in dataset["files"].items():
            folder, _, name = path.rpartition("/")
            if (ids.get(folder) if folder else "root") != wanted:
                continue
            data = self.blobs[key]
            details = {"id": key, "content_type": "application/octet-stream", "size": len(data),
                       "created_date": "2024-01-01T00:00:00.000Z",
                       "download_url": f"{STORAGE}/{key}?X-Amz-Signature=c0ffee&X-Amz-Expires=3600",
                       "view_url": f"{SITE}/public-files/datasets/{request.params['id']}/files/{key}/"
                                   "file_viewed",
                       "download_expiry_time": "2099-01-01T00:00:00.000Z"}
            if self.publish_sha256:
                details["sha256_hash"] = hashlib.sha256(data).hexdigest()
            listing.append({"filename": name, "id": key, "size": len(data), "status": "ready",
                            "last_modified_date": "2024-01-01T00:00:00.000Z", "content_details": details})
        return json_reply(listing)

    def public_file(self, request: Request) -> Reply:
        if request.params["uuid"] not in self.blobs:
            raise json_reply({"message": "File not found"}, 404)
        return Reply(302, b"", {"Location": f"{STORAGE}/{request.params['uuid']}?X-Amz-Signature=c0ffee"})

    def stored(self, request: Request) -> Reply:
        data = self.blobs.get(request.params["uuid"])
        if data is None:
            raise Reply(404, b"<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml")
        return file_reply(request, data)
