"""A Zenodo emulator (InvenioRDM REST API + UI file paths), faithful to the reference page:

* `GET /api/records/{id}` in four `files` shapes: `key` (current list, `md5:` checksums,
  `links.self` -> `/content`), `filename` (Oct-2023 transitional: `filename`/`filesize`, bare md5,
  a broken `links.self`), `entries` (native dict keyed by name, `links.content`), `legacy`
  (pre-2023: `bucket`, `links.self` -> `/api/files/<bucket>/<key>`), or `listing` (no files in the
  record, only `links.files` -> `/api/records/{id}/files` with `{"enabled", "entries": [...]}`).
* `/api/records/{id}/versions/latest` -> 302 to the latest version; a concept id 404s on
  `/api/records/{concept}` (zenodo#2499) and, with `concept_latest=False`, on `/versions/latest`
  too, so only its DOI (see `emulators.doi`) leads to the latest version.
* `/api/records/{id}/files/{key}/content` and `/records/{id}/files/{key}?download=1` with Range
  (206), `Content-MD5`, `ETag: "md5:…"`; `/record/…` -> 301 to `/records/…`.
* `X-RateLimit-Limit/Remaining/Reset` on every answer for a window of `limit` requests per
  `window` seconds (60 a minute, like guests get); beyond it 429 with `Retry-After` until the
  window ends. `throttle(n)` makes the next n requests 429 regardless. JSON errors `{"message", "status"}`.
* fault: a record's `overrides` replace fields of its file documents (`{"size": "big"}`);
* Restricted records hide their files from guests (content 403) unless
  `Authorization: Bearer <token>` carries the record's token.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote

from .service import Emulator, EmulatorServer, Reply, Request, file_reply, json_reply

SITE = "https://zenodo.org"
RATE_LIMIT = 60


@dataclass
class Record:
    recid: str
    files: dict[str, bytes]
    shape: str = "key"
    concept: str | None = None
    restricted: bool = False
    token: str | None = None
    checksums: bool = True
    overrides: dict = field(default_factory=dict)   # fault: fields every file document gets instead


@dataclass
class ZenodoEmulator(Emulator):
    ORIGINS = {SITE: "server"}

    server: EmulatorServer = field(default_factory=EmulatorServer)
    records: dict[str, Record] = field(default_factory=dict)
    concept_latest: bool = True      # /api/records/{concept}/versions/latest answers (else 404)
    retry_after: str = "1"
    limit: int = RATE_LIMIT
    window: float = 60.0
    served_429: int = 0
    _throttled: int = 0
    _used: int = 0
    _window_end: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        route = self.server.route
        route("GET", r"/api/records/(?P<id>\d+)")(self.record)
        route("GET", r"/api/records/(?P<id>\d+)/versions/latest")(self.latest)
        route("GET", r"/api/records/(?P<id>\d+)/files")(self.listing)
        route("GET", r"/api/records/(?P<id>\d+)/files/(?P<key>.+)/content")(self.content)
        route("GET", r"/api/files/(?P<bucket>[\w-]+)/(?P<key>.+)")(self.bucket_content)
        route("GET", r"/records/(?P<id>\d+)/files/(?P<key>.+)")(self.content)
        route("GET", r"/records/(?P<id>\d+)")(self.landing)
        route("GET", r"/record/(?P<rest>.+)")(self.moved)
        self.server.dispatch = self._rate_limited(self.server.dispatch)

    # -- set-up -------------------------------------------------------------------------------
    def add(self, recid: str, files: dict[str, bytes], **options) -> Record:
        record = Record(recid, files, **options)
        self.records[recid] = record
        return record

    def throttle(self, requests: int) -> None:
        """The next `requests` requests are answered 429 with Retry-After."""
        self._throttled = requests

    # -- rate limits ----------------------------------------------------------------------------
    def rate_limit(self, requests: int, window: float) -> None:
        """Allow `requests` requests per `window` seconds (Zenodo: 60 a minute for guests)."""
        self.limit, self.window = requests, window

    def _rate_limited(self, dispatch):
        def wrapped(request: Request) -> Reply:
            with self._lock:
                now = time.time()
                if now >= self._window_end:
                    self._window_end, self._used = math.ceil(now + self.window), 0
                self._used += 1
                remaining = self.limit - self._used
                headers = {"X-RateLimit-Limit": str(self.limit),
                           "X-RateLimit-Remaining": str(max(0, remaining)),
                           "X-RateLimit-Reset": str(self._window_end)}
                if self._throttled > 0 or remaining < 0:
                    self.served_429 += 1
                    wait = self.retry_after if self._throttled > 0 else str(math.ceil(self._window_end - now))
                    self._throttled = max(0, self._throttled - 1)
                    return json_reply({"message": "Too many requests.", "status": 429}, 429,
                                      headers={**headers, "Retry-After": wait})
            reply = dispatch(request)
            reply.headers.update(headers)
            return reply
        return wrapped

    # -- documents ----------------------------------------------------------------------------
    def _find(self, request: Request) -> Record:
        record = self.records.get(request.params["id"])
        if record is None:
            raise json_reply({"message": "The persistent identifier does not exist.", "status": 404}, 404)
        return record

    def _authorized(self, request: Request, record: Record) -> bool:
        return not record.restricted or (record.token is not None and
                                         request.headers.get("authorization") == f"Bearer {record.token}")

    def _concept_latest(self, concept: str) -> Record | None:
        versions = [r for r in self.records.values() if r.concept == concept]
        return max(versions, key=lambda r: int(r.recid)) if versions else None

    def file_doc(self, record: Record, key: str, data: bytes) -> dict:
        api = f"{SITE}/api/records/{record.recid}/files/{quote(key)}"
        md5 = hashlib.md5(data).hexdigest()
        shape = record.shape
        if shape == "filename":
            return {"id": f"f-{key}", "filename": key, "filesize": len(data),
                    **({"checksum": md5} if record.checksums else {}),
                    "links": {"self": f"{SITE}/api/files/broken/{quote(key)}",
                              "download": f"{SITE}/records/{record.recid}/files/{quote(key)}?download=1"}}
        doc = {"id": f"f-{key}", "key": key, "size": len(data),
               **({"checksum": f"md5:{md5}"} if record.checksums else {})}
        if shape == "entries":
            doc.update(mimetype="application/octet-stream", storage_class="L",
                       links={"self": api, "content": f"{api}/content"})
        elif shape == "legacy":
            doc.update(bucket="b-" + record.recid, type=key.rsplit(".", 1)[-1],
                       links={"self": f"{SITE}/api/files/b-{record.recid}/{quote(key)}"})
        else:
            doc["links"] = {"self": f"{api}/content"}
        doc.update(record.overrides)
        return doc

    def record_doc(self, record: Record, request: Request) -> dict:
        base = f"{SITE}/api/records/{record.recid}"
        files = [] if not self._authorized(request, record) else [
            self.file_doc(record, key, data) for key, data in record.files.items()]
        doc = {"id": int(record.recid), "recid": record.recid, "conceptrecid": record.concept,
               "doi": f"10.5281/zenodo.{record.recid}", "title": f"record {record.recid}",
               "status": "published",
               "metadata": {"access_right": "restricted" if record.restricted else "open"},
               "links": {"self": base, "self_html": f"{SITE}/records/{record.recid}",
                         "latest": f"{base}/versions/latest", "files": f"{base}/files",
                         "archive": f"{base}/files-archive"}}
        if record.shape == "entries":
            doc["files"] = {"enabled": True, "count": len(files), "order": [],
                            "entries": {f["key"]: f for f in files}}
            doc["access"] = {"record": "public", "files": "restricted" if record.restricted else "public",
                             "embargo": {"active": False, "until": None, "reason": None}, "status": "open"}
        elif record.shape != "listing":
            doc["files"] = files
        return doc

    # -- routes -------------------------------------------------------------------------------
    def record(self, request: Request) -> Reply:
        return json_reply(self.record_doc(self._find(request), request))

    def latest(self, request: Request) -> Reply:
        recid = request.params["id"]
        record = self.records.get(recid)
        concept = record.concept if record else (recid if self.concept_latest else None)
        newest = self._concept_latest(concept) if concept else record
        if newest is None:
            raise json_reply({"message": "The persistent identifier does not exist.", "status": 404}, 404)
        return Reply(302, b"", {"Location": f"{SITE}/api/records/{newest.recid}"})

    def listing(self, request: Request) -> Reply:
        record = self._find(request)
        entries = [self.file_doc(record, k, d) for k, d in record.files.items()] \
            if self._authorized(request, record) else []
        return json_reply({"enabled": True, "entries": entries, "order": [], "default_preview": None})

    def _serve(self, request: Request, record: Record, key: str) -> Reply:
        if key not in record.files:
            raise json_reply({"message": "File not found.", "status": 404}, 404)
        if not self._authorized(request, record):
            raise json_reply({"message": "Permission denied.", "status": 403}, 403)
        data = record.files[key]
        md5 = hashlib.md5(data).hexdigest()
        return file_reply(request, data, {"Content-Disposition": f"attachment; filename={quote(key)}",
                                          "Content-MD5": md5, "ETag": f'"md5:{md5}"',
                                          "Last-Modified": "Thu, 23 Feb 2023 14:47:38 GMT"})

    def content(self, request: Request) -> Reply:
        from urllib.parse import unquote

        return self._serve(request, self._find(request), unquote(request.params["key"]))

    def bucket_content(self, request: Request) -> Reply:
        from urllib.parse import unquote

        record = self.records.get(request.params["bucket"].removeprefix("b-"))
        if record is None or record.shape != "legacy":
            raise json_reply({"message": "Bucket not found.", "status": 404}, 404)
        return self._serve(request, record, unquote(request.params["key"]))

    def landing(self, request: Request) -> Reply:
        record = self._find(request)
        return Reply(200, f"<html><title>record {record.recid}</title></html>", content_type="text/html")

    def moved(self, request: Request) -> Reply:
        query = "&".join(f"{k}={v}" for k, v in request.query.items())
        return Reply(301, b"", {"Location": f"{SITE}/records/{request.params['rest']}"
                                            + (f"?{query}" if query else "")})
