"""A TCIA PathDB emulator (pathdb.cancerimagingarchive.net, a Drupal site), faithful to the reference
(shared/reference/protocols-nci.md, section 3):

* `GET /collections?_format=json` -> every collection term, unpaged:
  `[{"tid": [{"value": 10}], "name": [{"value": "Prostate_MRI"}], "changed": [...]}]`.
* `GET /listofimages/<tid>?_format=json&page=N` -> a JSON list of `wsi` nodes, `page_size` per page,
  pages from 0; past the last page the answer is an empty list `[]` (also for an unknown tid, as a
  Drupal view with a contextual filter answers). Every field is a Drupal list of one-element objects;
  `field_wsiimage[0].url` is an **http://** URL under `/system/files/wsi/...`.
* `GET /system/files/...`: the file, with single-range support (206 + `Content-Range`); a **HEAD has
  no Content-Length**. Served on the https origin (the http:// URLs are upgraded by clients).
* Faults: `not_json_pages` (page numbers answered 200 with an HTML page, as a site behind a login or
  maintenance page does); `missing_files` (paths answered 404).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .service import Emulator, EmulatorServer, Reply, Request, file_reply, json_reply

SITE = "https://pathdb.cancerimagingarchive.net"


def drupal(value, key: str = "value") -> list[dict]:
    return [{key: value}]


@dataclass
class PathDBEmulator(Emulator):
    ORIGINS = {SITE: "site"}

    site: EmulatorServer = field(default_factory=EmulatorServer)
    page_size: int = 100
    collections: dict[int, str] = field(default_factory=dict)            # tid -> name
    images: dict[int, list[dict]] = field(default_factory=dict)          # tid -> node records
    files: dict[str, bytes] = field(default_factory=dict)                # /system/files/... -> bytes
    not_json_pages: set[int] = field(default_factory=set)
    missing_files: set[str] = field(default_factory=set)

    def __post_init__(self):
        self.site.route("GET", r"/collections")(self.list_collections)
        self.site.route("GET", r"/listofimages/(?P<tid>\d+)")(self.list_images)
        self.site.route("GET", r"/system/files/(?P<path>.+)")(self.file)
        self.site.route("HEAD", r"/system/files/(?P<path>.+)")(self.head)

    def add_collection(self, tid: int, name: str, slides: dict[str, tuple[str, bytes]],
                       study: str | None = None, mpp: float = 0, nid: int = 2000) -> None:
        """`slides`: image id -> (subject id, bytes); each becomes a node with an http:// file URL."""
        self.collections[tid] = name
        records = self.images.setdefault(tid, [])
        for number, (image_id, (subject, data)) in enumerate(slides.items()):
            path = f"/system/files/wsi/ross/{name}/converted/{image_id}.svs"
            self.files[path] = data
            records.append({
                "nid": drupal(nid + number), "studyid": drupal(study or name), "field_collection": drupal(tid, "target_id"),
                "clinicaltrialsubjectid": drupal(subject), "imageid": drupal(image_id),
                "imagedvolumeheight": drupal(6165 + number), "imagedvolumewidth": drupal(7324),
                "referencepixelphysicalvaluex": drupal(mpp), "referencepixelphysicalvaluey": drupal(mpp),
                "field_wsiimage": drupal(f"http://pathdb.cancerimagingarchive.net{path}", "url"),
                "created": drupal("2021-11-29T14:35:04+00:00"), "changed": drupal("2021-11-29T14:39:15+00:00")})

    def list_collections(self, request: Request) -> Reply:
        return json_reply([{"tid": drupal(tid), "name": drupal(name), "changed": drupal("2021-11-29T14:39:15+00:00")}
                           for tid, name in self.collections.items()])

    def list_images(self, request: Request) -> Reply:
        page = int(request.query.get("page", "0"))
        if page in self.not_json_pages:
            return Reply(200, "<!DOCTYPE html><html><body>Site under maintenance</body></html>",
                         content_type="text/html; charset=UTF-8")
        records = self.images.get(int(request.params["tid"]), [])
        return json_reply(records[page * self.page_size:(page + 1) * self.page_size])

    def _data(self, request: Request) -> bytes:
        path = "/system/files/" + request.params["path"]
        if path in self.missing_files or path not in self.files:
            raise Reply(404, "<html><body>Page not found</body></html>", content_type="text/html")
        return self.files[path]

    def file(self, request: Request) -> Reply:
        return file_reply(request, self._data(request))

    def head(self, request: Request) -> Reply:
        self._data(request)
        reply = Reply(200, b"", {"Accept-Ranges": "bytes"}, content_type="application/octet-stream")
        reply.send_length = False
        return reply
