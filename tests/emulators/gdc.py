"""An emulator of the NCI GDC API (api.gdc.cancer.gov), written from the protocol reference
(`protocols-nci.md` §1: gdc-docs, gdc-client and its mock server):

* `GET|POST /files` and `/v0/files`: `filters` (JSON; URL-encoded on GET, an object in the POST
  body) with the operators `=, !=, in, exclude, and, or`, on dotted paths with or without the
  `files.` prefix, nested through lists (`cases.project.project_id`: `cases` is a list, `project`
  an object, `cases[].samples` a list); `fields` (comma-separated dotted paths, the hit keeps only
  those, nested as the data model nests them, plus `id` always); without `fields` the default set,
  which has **no** `md5sum`; `size` (default 10, strings accepted), `from` (0-based), `sort`
  (`field:asc|desc`); the envelope `{"data": {"hits", "pagination": {count, total, size, from,
  sort, page, pages}}, "warnings": {}}`.
* `POST /files/versions` (`{"ids": [...]}` -> a JSON array; 400 `{"message"}` for a bad body).
* `GET /data/<file_id>` and `/v0/data/<file_id>`: the bytes with `Content-Disposition: attachment;
  filename=<name>`, `Content-MD5: <hex md5>`, single Range (206 + Content-Range); controlled files
  answer 403 `{"message": "You don't have access to the data: Please specify a X-Auth-Token"}`
  without a token, 403 "Your token is invalid or expired ..." with an unknown token, and 403
  "... does not allow read access" for a token without that project. An unknown id: 404.
* `throttle(n, status=429, route="files"|"data")`: the next n requests (to that route) answer 429
  (or a 5xx) with `{"message"}`.
* `redirect_data_to`: `/data/<id>` answers 302 to that storage server (a token must not follow).
"""
from __future__ import annotations

import hashlib
import json
import math
import threading
from dataclasses import dataclass, field
from typing import ClassVar

from .service import Emulator, EmulatorServer, Reply, Request, file_reply, json_reply

API = "https://api.gdc.cancer.gov"
DEFAULT_FIELDS = ("id", "data_format", "access", "file_name", "submitter_id", "data_category", "acl", "type",
                  "file_size", "created_datetime", "updated_datetime", "file_id", "data_type", "state",
                  "experimental_strategy", "version", "data_release")


@dataclass
class GDCFile:
    file_id: str
    file_name: str
    data: bytes
    project: str
    case: str
    sample_type: str = "Primary Tumor"
    experimental_strategy: str = "Diagnostic Slide"
    primary_site: str = "Breast"
    disease_type: str = "Ductal and Lobular Neoplasms"
    data_type: str = "Slide Image"
    access: str = "open"
    size: int | None = None          # a listed size without bytes (benchmarks list only)
    served_access: str | None = None  # `data` treats it so, whatever the index says

    def document(self) -> dict:
        """The file as the index holds it (every field the emulator can return; built once)."""
        key = (self.access, self.size, len(self.data))
        if getattr(self, "_cached", (None,))[0] != key:
            self._cached = (key, self._document())
        return self._cached[1]

    def _document(self) -> dict:
        program = self.project.split("-", 1)[0]
        return {
            "id": self.file_id, "file_id": self.file_id, "file_name": self.file_name,
            "file_size": self.size if self.size is not None else len(self.data),
            "md5sum": hashlib.md5(self.data).hexdigest(), "access": self.access, "state": "released",
            "data_format": "SVS", "data_type": self.data_type, "data_category": "Biospecimen",
            "experimental_strategy": self.experimental_strategy, "type": "slide_image",
            "submitter_id": self.file_name.split(".")[0], "version": "1", "data_release": "42.0",
            "acl": ["open"] if self.access == "open" else ["phs000178"],
            "cases": [{"case_id": f"case-{self.case}", "submitter_id": self.case,
                       "primary_site": self.primary_site, "disease_type": self.disease_type,
                       "project": {"project_id": self.project, "program": {"name": program}},
                       "samples": [{"sample_type": self.sample_type,
                                    "submitter_id": f"{self.case}-01A"}]}],
        }


def values_at(document, path: list[str]) -> list:
    """Every value at a dotted path, through lists (any-of semantics)."""
    if not path:
        return document if isinstance(document, list) else [document]
    if isinstance(document, list):
        return [v for item in document for v in values_at(item, path)]
    if not isinstance(document, dict) or path[0] not in document:
        return []
    return values_at(document[path[0]], path[1:])


def field_path(name: str) -> list[str]:
    parts = name.split(".")
    return parts[1:] if parts[0] == "files" else parts


def matches(document: dict, query: dict | None) -> bool:
    if not query:
        return True
    op, content = query.get("op", "").lower(), query.get("content")
    if op == "and":
        return all(matches(document, q) for q in content)
    if op == "or":
        return any(matches(document, q) for q in content)
    wanted = content["value"] if isinstance(content["value"], list) else [content["value"]]
    present = [str(v) for v in values_at(document, field_path(content["field"]))]
    hit = any(str(w) in present for w in wanted)
    if op in ("in", "=", "is"):
        return hit
    if op in ("!=", "exclude", "not"):
        return not hit
    raise Reply(400, json.dumps({"message": f"unsupported op {op!r}"}), content_type="application/json")


def project(document, paths: list[list[str]]):
    """Keep only the requested dotted paths, nested as in the document."""
    if isinstance(document, list):
        return [project(item, paths) for item in document]
    if not isinstance(document, dict):
        return document
    kept = {}
    for head in dict.fromkeys(p[0] for p in paths if p):
        if head not in document:
            continue
        rest = [p[1:] for p in paths if p and p[0] == head]
        whole = any(not r for r in rest)
        kept[head] = document[head] if whole else project(document[head], [r for r in rest if r])
    return kept


@dataclass
class GDCEmulator(Emulator):
    ORIGINS: ClassVar[dict[str, str]] = {API: "server"}

    server: EmulatorServer = field(default_factory=EmulatorServer)
    storage: EmulatorServer = field(default_factory=EmulatorServer)
    files: dict[str, GDCFile] = field(default_factory=dict)
    tokens: dict[str, set[str]] = field(default_factory=dict)   # token -> projects it may read
    redirect_data_to_storage: bool = False
    _throttled: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        for prefix in ("", "/v0"):
            self.server.route("GET", prefix + r"/files")(self.search)
            self.server.route("POST", prefix + r"/files")(self.search)
            self.server.route("POST", prefix + r"/files/versions")(self.versions)
            self.server.route("GET", prefix + r"/data/(?P<id>[0-9A-Za-z-]+)")(self.data)
        self.server.route("GET", r"/status")(lambda request: json_reply({"status": "OK", "version": 1}))
        self.storage.route("GET", r"/(?P<id>[0-9A-Za-z-]+)")(self.stored)

    # ------------------------------------------------------------------ set-up
    def add(self, file_id: str, file_name: str, data: bytes = b"", project: str = "TCGA-BRCA",
            case: str = "TCGA-AA-0001", **fields) -> GDCFile:
        self.files[file_id] = GDCFile(file_id, file_name, data, project, case, **fields)
        return self.files[file_id]

    def throttle(self, count: int, status: int = 429, route: str = "") -> None:
        """The next `count` requests (to `route`, "files" or "data", when given) answer `status`."""
        with self._lock:
            self._throttled.extend([(status, route)] * count)

    def _busy(self, route: str) -> Reply | None:
        with self._lock:
            index = next((i for i, (_, r) in enumerate(self._throttled) if r in ("", route)), None)
            status = self._throttled.pop(index)[0] if index is not None else None
        if status is None:
            return None
        message = "Too Many Requests" if status == 429 else "Service Unavailable"
        return json_reply({"message": message}, status=status)

    # ------------------------------------------------------------------ routes
    def search(self, request: Request) -> Reply:
        busy = self._busy("files")
        if busy:
            return busy
        params = dict(request.query)
        if request.method == "POST":
            params.update(request.json() or {})
        query = params.get("filters")
        if isinstance(query, str):
            query = json.loads(query) if query else None
        size, start = int(params.get("size", 10)), int(params.get("from", 0))
        hits = [f.document() for f in self.files.values()]
        hits = [h for h in hits if matches(h, query)]
        sort = str(params.get("sort") or "")
        if sort:
            key, _, order = sort.partition(":")
            hits.sort(key=lambda h: str(values_at(h, field_path(key))), reverse=order == "desc")
        total = len(hits)
        page = hits[start:start + size]
        wanted = str(params.get("fields") or "")
        paths = [field_path(f.strip()) for f in wanted.split(",") if f.strip()] if wanted \
            else [[f] for f in DEFAULT_FIELDS]
        page = [{**project(h, paths), "id": h["id"]} for h in page]
        pagination = {"count": len(page), "total": total, "size": size, "from": start, "sort": sort,
                      "page": start // size + 1 if size else 1,
                      "pages": math.ceil(total / size) if size else 1}
        return json_reply({"data": {"hits": page, "pagination": pagination}, "warnings": {}})

    def versions(self, request: Request) -> Reply:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
            return json_reply({"message": "ids is required"}, status=400)
        answer = []
        for file_id in body["ids"]:
            if file_id not in self.files:
                return json_reply({"message": f"{file_id} not found"}, status=404)
            f = self.files[file_id].document()
            answer.append({"id": file_id, "filename": f["file_name"], "version": "1", "md5": f["md5sum"],
                           "size": f["file_size"], "state": "validated", "release": "42.0",
                           "latest_id": file_id, "latest_filename": f["file_name"], "latest_version": "1",
                           "latest_size": f["file_size"], "latest_state": "validated",
                           "latest_release": ["42.0"]})
        return json_reply(answer)

    def data(self, request: Request) -> Reply:
        busy = self._busy("data")
        if busy:
            return busy
        f = self.files.get(request.params["id"])
        if f is None:
            return json_reply({"message": f"{request.params['id']} not found"}, status=404)
        if (f.served_access or f.access) != "open":
            token = request.headers.get("x-auth-token")
            if not token:
                return json_reply({"message": "You don't have access to the data: Please specify a "
                                              "X-Auth-Token"}, status=403)
            if token not in self.tokens:
                return json_reply({"message": "Your token is invalid or expired, please get a new token from "
                                              "GDC Data Portal"}, status=403)
            if f.project not in self.tokens[token]:
                return json_reply({"message": "You don't have access to the data: Requested file "
                                              f"{f.file_id} does not allow read access"}, status=403)
        if self.redirect_data_to_storage:
            return Reply(302, b"", {"Location": f"{self.storage.url}/{f.file_id}"})
        return self._bytes(request, f)

    def stored(self, request: Request) -> Reply:
        f = self.files.get(request.params["id"])
        return self._bytes(request, f) if f else Reply(404, b"no such key")

    @staticmethod
    def _bytes(request: Request, f: GDCFile) -> Reply:
        return file_reply(request, f.data, {"Content-Disposition": f"attachment; filename={f.file_name}",
                                            "Content-MD5": hashlib.md5(f.data).hexdigest()})
