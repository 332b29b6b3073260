"""A Kaggle API emulator (the RPC protocol of kagglesdk >= 1.7), plus a storage server:

* `POST /v1/<service>/<Method>` with a camelCase JSON body; HTTP Basic `username:key` or
  `Authorization: Bearer <token>`, else 401 `{"code": 401, "message": ...}`;
* `competitions.CompetitionApiService/ListDataFiles` and `datasets.DatasetApiService/ListDatasetFiles`
  list `name` + `totalBytes`, paged by `pageSize`/`pageToken`/`nextPageToken`;
* `DownloadDataFile` / `DownloadDataset` answer 302 to a signed storage URL (another host),
  which serves the bytes with Content-Length, Last-Modified and Range, and refuses credentials;
* faults: `paging = "repeat-token"` hands back the second page's token forever (a server bug);
  `paging = "endless"` never ends (every page new names, a new token); `listing_override` answers
  every listing with that document (malformed JSON);
* a competition whose rules the user has not accepted answers 403 `{"code": 403, "message":
  "You must accept this competition's rules before you'll be able to download files."}`.
"""
from __future__ import annotations

import base64
import secrets

from .service import Emulator, EmulatorServer, Reply, Request, file_reply, json_reply

API = "https://api.kaggle.com"
STORAGE = "https://storage.googleapis.com"
RULES = "You must accept this competition's rules before you'll be able to download files."


class KaggleEmulator(Emulator):
    ORIGINS = {API: "server", STORAGE: "storage"}

    def __init__(self, users: dict[str, str] | None = None, tokens: set[str] | None = None):
        self.server = EmulatorServer()
        self.storage = EmulatorServer()
        self.users = dict(users or {})                  # username -> key
        self.tokens = set(tokens or ())
        self.competitions: dict[str, dict[str, bytes]] = {}
        self.datasets: dict[str, dict[str, bytes]] = {}
        self.accepted: dict[str, set[str]] = {}          # competition -> users who accepted the rules
        self.blobs: dict[str, bytes] = {}
        self.zipped: set[str] = set()                   # file names served as <name>.zip (old Kaggle habit)
        self.cut_once: set[str] = set()                 # file names whose next storage GET is cut halfway
        self.paging: str | None = None                  # fault: "repeat-token" | "endless"
        self.listing_override = None                    # fault: answer listings with this document
        self._routes()

    @staticmethod
    def error(code: int, message: str) -> Reply:
        return json_reply({"code": code, "message": message}, code)

    def who(self, request: Request) -> str:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value in self.tokens:
            return f"token:{value[:4]}"
        if scheme.lower() == "basic":
            user, _, key = base64.b64decode(value).decode().partition(":")
            if self.users.get(user) == key:
                return user
        raise self.error(401, "Unauthenticated")

    def page(self, request: Request, files: dict[str, bytes], key: str) -> Reply:
        if self.listing_override is not None:
            return json_reply(self.listing_override)
        body = request.json()
        size = int(body.get("pageSize") or 20)
        start = int(body.get("pageToken") or 0)
        if self.paging == "endless":
            chunk = [f"endless/{n:09d}.bin" for n in range(start, start + size)]
            listed = [{"name": name, "totalBytes": 1} for name in chunk]
            return json_reply({key: listed, "nextPageToken": str(start + size)})
        names = sorted(files)
        chunk = names[start:start + size]
        listed = [{"ref": name, "name": name, "description": "", "totalBytes": len(files[name]),
                   "url": "", "creationDate": "2020-04-21T00:00:00Z"} for name in chunk]
        more = start + size < len(names)
        following = str(size) if self.paging == "repeat-token" else str(start + size) if more else ""
        return json_reply({key: listed, "nextPageToken": following})

    def redirect(self, data: bytes, name: str) -> Reply:
        if name in self.zipped:
            import io
            import zipfile

            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
                bundle.writestr(name, data)
            data, name = buffer.getvalue(), name + ".zip"
        key = f"kaggle-data-sets/{secrets.token_hex(4)}/{name}"
        self.blobs[key] = data
        return Reply(302, b"", {"Location": f"{STORAGE}/{key}?GoogleAccessId=x&Expires=1&Signature=sig%3D"})

    def _routes(self) -> None:
        route = self.server.route
        competitions, datasets = "/v1/competitions.CompetitionApiService", "/v1/datasets.DatasetApiService"

        def competition(request) -> tuple[str, dict[str, bytes]]:
            user = self.who(request)
            slug = request.json().get("competitionName", "")
            if slug not in self.competitions:
                raise self.error(404, "Competition not found")
            return user, slug

        @route("POST", competitions + "/ListDataFiles")
        def list_competition(request):
            _, slug = competition(request)
            return self.page(request, self.competitions[slug], "files")

        @route("POST", competitions + "/DownloadDataFile")
        def download_competition(request):
            user, slug = competition(request)
            if user not in self.accepted.get(slug, set()):
                raise self.error(403, RULES)
            name = request.json().get("fileName", "")
            if name not in self.competitions[slug]:
                raise self.error(404, "File not found")
            return self.redirect(self.competitions[slug][name], name.rsplit("/", 1)[-1])

        def dataset(request) -> str:
            self.who(request)
            body = request.json()
            ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
            if ref not in self.datasets:
                raise self.error(404, "Dataset not found")
            return ref

        @route("POST", datasets + "/ListDatasetFiles")
        def list_dataset(request):
            return self.page(request, self.datasets[dataset(request)], "datasetFiles")

        @route("POST", datasets + "/DownloadDataset")
        def download_dataset(request):
            files = self.datasets[dataset(request)]
            name = request.json().get("fileName", "")
            if name not in files:
                raise self.error(404, "File not found")
            return self.redirect(files[name], name.rsplit("/", 1)[-1])

        @self.storage.route("GET", r"/(?P<key>.+)")
        def storage(request):
            if "authorization" in request.headers:
                return Reply(400, "<Error><Code>InvalidArgument</Code></Error>", content_type="application/xml")
            if request.params["key"] not in self.blobs:
                return Reply(404, "<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml")
            key = request.params["key"]
            reply = file_reply(request, self.blobs[key], {"Last-Modified": "Tue, 21 Apr 2020 10:00:00 GMT",
                                                          "ETag": f'"{len(self.blobs[key])}-{key[-8:]}"'})
            name = key.rsplit("/", 1)[-1]
            if name in self.cut_once:
                self.cut_once.discard(name)
                reply.truncate = len(reply.body) // 2
            return reply
