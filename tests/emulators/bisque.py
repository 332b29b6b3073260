"""A BisQue emulator (UCSB's bisque2.ece.ucsb.edu), faithful to BisQue's own server and client
(UCSB-VRL/bisqueUCSB: bq/data_service, bq/blob_service; bqapi.util.fetch_dataset, fetch_blob):

* `GET /data_service/<uniq>?view=deep` on a dataset -> `<dataset name=... resource_uniq=... uri=...
  permission="published">` holding one `<value index="N" type="object">https://<host>/data_service/<uniq>
  </value>` per member (absolute URIs on the server's own host).
* `GET /data_service/<uniq>` on a member -> the resource itself, e.g. `<image name="a.tif"
  resource_uniq=... uri=... value="file://..."/>` (text/xml).
* `GET /blob_service/<uniq>` -> the original file, served by paste's FileApp: Content-Length,
  single Range requests (206 + Content-Range), `Content-Disposition: attachment; filename="a.tif"`.
* A resource that is not public, or does not exist, answers 403 ("resource does not exist or
  permission denied", as `blob_service.get_one` and the data service abort).
* Faults: `private` (uniqs answered 403), `wrapped` (data_service answers wrapped in `<resource>`,
  as BisQue's query views answer), `foreign_members` (member URIs naming another host).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from .service import Emulator, EmulatorServer, Reply, Request, file_reply

SITE = "https://bisque2.ece.ucsb.edu"


@dataclass
class BisQueEmulator(Emulator):
    ORIGINS = {SITE: "site"}

    site: EmulatorServer = field(default_factory=EmulatorServer)
    datasets: dict[str, tuple[str, list[str]]] = field(default_factory=dict)   # uniq -> (name, members)
    resources: dict[str, tuple[str, bytes]] = field(default_factory=dict)      # uniq -> (name, bytes)
    private: set[str] = field(default_factory=set)
    wrapped: bool = False
    foreign_members: bool = False

    def __post_init__(self):
        self.site.route("GET", r"/data_service/(?P<uniq>00-\w+)")(self.data_service)
        self.site.route("GET", r"/blob_service/(?P<uniq>00-\w+)")(self.blob)

    def add_dataset(self, uniq: str, name: str, files: dict[str, tuple[str, bytes]]) -> None:
        """`files`: member uniq -> (file name, bytes)."""
        self.datasets[uniq] = (name, list(files))
        self.resources.update(files)

    def _refuse(self, uniq: str) -> None:
        if uniq in self.private or (uniq not in self.datasets and uniq not in self.resources):
            raise Reply(403, "resource does not exist or permission denied", content_type="text/html")

    def _xml(self, body: str) -> Reply:
        if self.wrapped:
            body = f'<resource uri="{SITE}/data_service/">{body}</resource>'
        return Reply(200, '<?xml version="1.0" encoding="UTF-8"?>\n' + body, content_type="text/xml")

    def data_service(self, request: Request) -> Reply:
        uniq = request.params["uniq"]
        self._refuse(uniq)
        uri = f"{SITE}/data_service/{uniq}"
        if uniq in self.datasets:
            name, members = self.datasets[uniq]
            host = "https://elsewhere.example.org" if self.foreign_members else SITE
            values = "".join(f'<value index="{i}" type="object">{host}/data_service/{member}</value>'
                             for i, member in enumerate(members))
            if request.query.get("view") != "deep":
                values = ""                               # a short view has no values
            return self._xml(f'<dataset created="2025-02-19T10:00:00" name={quoteattr(name)} '
                             f'owner="{SITE}/data_service/00-owner" permission="published" '
                             f'resource_uniq="{uniq}" ts="2025-02-28T10:00:00" uri="{uri}">{values}</dataset>')
        name, _ = self.resources[uniq]
        return self._xml(f'<image created="2025-02-19T10:00:00" name={quoteattr(name)} '
                         f'owner="{SITE}/data_service/00-owner" permission="published" '
                         f'resource_uniq="{uniq}" ts="2025-02-19T10:00:00" uri="{uri}" '
                         f'value="file://vrl/{uniq}/{name}"/>')

    def blob(self, request: Request) -> Reply:
        uniq = request.params["uniq"]
        self._refuse(uniq)
        name, data = self.resources[uniq]
        return file_reply(request, data, {"Content-Type": "image/tiff",
                                          "Content-Disposition": f'attachment; filename="{name}"'})
