"""A Dataverse emulator (native + access API), faithful to the reference page:

* `GET /api/datasets/:persistentId?persistentId=doi:…` -> `{"status": "OK", "data": {…,
  "latestVersion": {"files": [{"label", "directoryLabel", "restricted", "dataFile": {…}}]}}}`;
  `/api/datasets/:persistentId/versions/{v}?persistentId=` -> the version object. Unknown ids:
  404 `{"status": "ERROR", "message": …}`.
* `GET /api/access/datafile/{id}` -> 303 See Other to presigned storage (Range works there).
  Ingested tabular files (`tabularData`) serve the archival `.tab` by default and the uploaded
  original with `?format=original`; the published checksum is the original's.
* `checksum: {type, value}` with MD5, SHA-1 or SHA-256 (`md5` only when the type is MD5).
* Restricted files answer 403; a dataset with a guestbook answers 400 (Dataverse >= 6.10).
"""
from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field

from .service import Emulator, EmulatorServer, Reply, Request, file_reply, json_reply

SERVER = "https://dataverse.harvard.edu"
STORAGE = "https://dvn-cloud.s3.amazonaws.com"
_ids = itertools.count(999001)


@dataclass
class DvFile:
    id: int
    label: str
    data: bytes
    directory: str = ""
    algorithm: str = "MD5"
    restricted: bool = False
    original: bytes | None = None         # set for ingested tabular files: the uploaded original
    original_name: str | None = None

    def document(self) -> dict:
        published = self.original if self.original is not None else self.data
        digest = hashlib.new(self.algorithm.lower().replace("-", ""), published).hexdigest()
        data_file = {"id": self.id, "persistentId": f"doi:10.7910/DVN/FILE{self.id}", "filename": self.label,
                     "contentType": "application/octet-stream", "filesize": len(self.data),
                     "checksum": {"type": self.algorithm, "value": digest}}
        if self.algorithm == "MD5":
            data_file["md5"] = digest
        if self.original is not None:
            data_file.update(tabularData=True, originalFileFormat="text/csv",
                             originalFileName=self.original_name,
                             originalFileSize=len(self.original), contentType="text/tab-separated-values")
        doc = {"label": self.label, "restricted": self.restricted, "version": 1, "dataFile": data_file}
        if self.directory:
            doc["directoryLabel"] = self.directory
        return doc


@dataclass
class DataverseEmulator(Emulator):
    ORIGINS = {SERVER: "server", STORAGE: "storage"}

    server: EmulatorServer = field(default_factory=EmulatorServer)
    storage: EmulatorServer = field(default_factory=EmulatorServer)
    datasets: dict[str, list[DvFile]] = field(default_factory=dict)     # "doi:…" -> files
    guestbook: set = field(default_factory=set)                          # dois with a guestbook
    files: dict[int, DvFile] = field(default_factory=dict)

    def __post_init__(self):
        self.server.route("GET", r"/api/datasets/:persistentId/?")(self.dataset)
        self.server.route("GET", r"/api/datasets/:persistentId/versions/(?P<v>[^/]+)")(self.version)
        self.server.route("GET", r"/api/access/datafile/(?P<id>\d+)")(self.access)
        self.storage.route("GET", r"/10\.7910/(?P<id>\d+)")(self.stored)

    def add(self, doi: str, *files: DvFile) -> None:
        self.datasets[f"doi:{doi}"] = list(files)
        self.files.update({f.id: f for f in files})

    @staticmethod
    def file(label: str, data: bytes, **options) -> DvFile:
        return DvFile(next(_ids), label, data, **options)

    def _files(self, request: Request) -> tuple[str, list[DvFile]]:
        pid = request.query.get("persistentId", "")
        if pid not in self.datasets:
            raise json_reply({"status": "ERROR",
                              "message": f"Dataset with Persistent ID {pid} not found."}, 404)
        return pid, self.datasets[pid]

    def _version(self, files: list[DvFile]) -> dict:
        return {"id": 1, "versionNumber": 1, "versionMinorNumber": 0, "versionState": "RELEASED",
                "license": {"name": "CC0 1.0"}, "files": [f.document() for f in files]}

    def dataset(self, request: Request) -> Reply:
        pid, files = self._files(request)
        authority, _, identifier = pid.removeprefix("doi:").partition("/")
        return json_reply({"status": "OK", "data": {
            "id": 3357438, "identifier": identifier, "protocol": "doi", "authority": authority,
            "latestVersion": self._version(files)}})

    def version(self, request: Request) -> Reply:
        _, files = self._files(request)
        if request.params["v"] not in (":latest", ":latest-published", "1", "1.0"):
            raise json_reply({"status": "ERROR", "message": "Dataset version not found."}, 404)
        return json_reply({"status": "OK", "data": self._version(files)})

    def access(self, request: Request) -> Reply:
        f = self.files.get(int(request.params["id"]))
        if f is None:
            raise json_reply({"status": "ERROR", "message": "File not found."}, 404)
        if f.restricted:
            raise json_reply({"status": "ERROR", "message": "Not authorized to access this object."}, 403)
        if any(f in files for doi, files in self.datasets.items() if doi in self.guestbook):
            raise json_reply({"status": "ERROR", "message": "You may not download this file without the "
                              "required Guestbook response for guestbookID 60."}, 400)
        kind = "orig" if request.query.get("format") == "original" and f.original is not None else "file"
        return Reply(303, b"", {"Location": f"{STORAGE}/10.7910/{f.id}?kind={kind}"
                                            "&X-Amz-Signature=feedface&X-Amz-Expires=60"})

    def stored(self, request: Request) -> Reply:
        f = self.files[int(request.params["id"])]
        data = f.original if request.query.get("kind") == "orig" else f.data
        return file_reply(request, data)
