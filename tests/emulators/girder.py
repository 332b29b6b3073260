"""A Girder 3 / Digital Slide Archive emulator (REST under /api/v1), faithful to the reference:

* `POST api_key/token` (key from query or form body) -> `{"user", "authToken": {"token"}}`;
  the token travels in `Girder-Token`; private resources answer 401 when anonymous, 403 when
  signed in without access; JSON errors `{"message", "type"}`.
* `resource/lookup?path=`, `resource/{id}/path?type=` (400 for a wrong type), `folder`, `item`,
  `item/{id}/files` with `limit` (default 50, 0 = all) / `offset` and `Girder-Total-Count`.
* `file/{id}/download` with single Range (206), Content-Disposition, exact sizes; `sha512` in
  file documents when the hashsum plugin is on.
* large_image: `item/{id}/tiles` metadata and `item/{id}/tiles/region` with the scaling rule
  out = region x native_mm / mm_x (not clamped: it upsamples), or magnification; JPEG default.
* `annotation/item/{id}` -> the full annotation documents.
* faults: `ignore_offset` (every page is the first) with `claimed_total` (a Girder-Total-Count that
  lies), so full pages come back forever; `nest(folder, inside)` lists a folder inside another
  (e.g. inside itself: a cycle).
"""
from __future__ import annotations

import hashlib
import io
import itertools
import math
from dataclasses import dataclass, field

from .service import Emulator, EmulatorServer, Reply, Request, file_reply, json_reply

SITE = "https://girder.example.org"      # Girder and DSA are self-hosted: any origin stands for one
API = f"{SITE}/api/v1"
_ids = itertools.count(0x5BBDEED1E629140048D01000)


def new_id() -> str:
    return f"{next(_ids):024x}"


@dataclass
class Node:
    model: str                       # collection | folder | item | file
    name: str
    parent: Node | None = None
    public: bool = True
    data: bytes = b""
    id: str = field(default_factory=new_id)
    slide: dict | None = None        # large image: sizeX, sizeY, mm_x, magnification
    annotations: list = field(default_factory=list)

    def doc(self, hashsum: bool) -> dict:
        base = {"_id": self.id, "_modelType": self.model, "name": self.name, "created": "2018-10-10T12:34:56+00:00"}
        if self.model == "folder":
            base.update(parentId=self.parent.id, parentCollection=self.parent.model, public=self.public, size=0)
        elif self.model == "item":
            base.update(folderId=self.parent.id, size=sum(len(c.data) for c in self.children_of()),
                        meta={}, description="")
            if self.slide:
                base["largeImage"] = {"fileId": self.children_of()[0].id if self.children_of() else None}
        elif self.model == "file":
            base.update(itemId=self.parent.id, size=len(self.data), mimeType="application/octet-stream",
                        exts=[self.name.rsplit(".", 1)[-1]], linkUrl=None)
            if hashsum:
                base["sha512"] = hashlib.sha512(self.data).hexdigest()
        return base

    def children_of(self) -> list[Node]:
        return self._children

    def __post_init__(self):
        self._children: list[Node] = []
        if self.parent is not None:
            self.parent._children.append(self)

    def path(self) -> str:
        if self.parent is None:
            return f"/collection/{self.name}"
        return f"{self.parent.path()}/{self.name}"

    def readable(self) -> bool:
        node = self
        while node is not None:
            if not node.public:
                return False
            node = node.parent
        return True


class GirderEmulator(Emulator):
    """Build a tree with `collection/folder/item/file`, then `start()`; `api_url` is the API root
    (the local one; entries name API, reached through the mirror map)."""

    ORIGINS = {SITE: "server"}

    def __init__(self, api_keys: dict[str, str] | None = None, hashsum: bool = True, max_limit: int | None = None,
                 key_in_query_only: bool = False):
        self.server = EmulatorServer()
        self.nodes: dict[str, Node] = {}
        self.api_keys = dict(api_keys or {})       # key -> login
        self.tokens: dict[str, str] = {}            # token -> login
        self.grants: dict[str, set[str]] = {}       # login -> ids of private nodes it may read
        self.hashsum = hashsum
        self.max_limit = max_limit                  # a server that caps page sizes
        self.key_in_query_only = key_in_query_only  # a server that ignores form bodies
        self.cut_once: set[str] = set()             # file ids whose next download is cut halfway
        self.ignore_offset = False                  # fault: every page is the first one
        self.claimed_total: int | None = None       # fault: the Girder-Total-Count sent
        self._routes()

    # ----- building the tree
    def add(self, node: Node) -> Node:
        self.nodes[node.id] = node
        return node

    def collection(self, name: str, public: bool = True) -> Node:
        return self.add(Node("collection", name, public=public))

    def folder(self, parent: Node, name: str, public: bool = True) -> Node:
        return self.add(Node("folder", name, parent, public=public))

    def item(self, folder: Node, name: str, files: dict[str, bytes] | None = None, slide: dict | None = None) -> Node:
        item = self.add(Node("item", name, folder, slide=slide))
        for file_name, data in (files if files is not None else {name: b""}).items():
            self.add(Node("file", file_name, item, data=data))
        return item

    def nest(self, folder: Node, inside: Node) -> None:
        """List `folder` among the children of `inside` as well (a cycle when it is an ancestor)."""
        inside._children.append(folder)

    def grant(self, login: str, node: Node) -> None:
        self.grants.setdefault(login, set()).add(node.id)

    # ----- serving
    @property
    def api_url(self) -> str:
        return self.server.url + "/api/v1"

    @staticmethod
    def error(status: int, message: str, kind: str = "rest") -> Reply:
        return json_reply({"message": message, "type": kind}, status)

    def user(self, request: Request) -> str | None:
        token = request.headers.get("girder-token") or request.query.get("token")
        if token and token not in self.tokens:
            raise self.error(401, "Invalid token.", "access")
        return self.tokens.get(token) if token else None

    def node(self, request: Request, node_id: str, model: str) -> Node:
        node = self.nodes.get(node_id)
        if node is None or node.model != model:
            raise self.error(400, f"Invalid {model} id ({node_id}).", "validation")
        self.check_access(request, node)
        return node

    def check_access(self, request: Request, node: Node) -> None:
        if node.readable():
            return
        login = self.user(request)
        if login is None:
            raise self.error(401, "You must be logged in.", "access")
        chain, cursor = set(), node
        while cursor is not None:
            chain.add(cursor.id)
            cursor = cursor.parent
        if not chain & self.grants.get(login, set()):
            raise self.error(403, "Read access denied.", "access")

    def page(self, request: Request, records: list[Node]) -> Reply:
        limit = int(request.query.get("limit", 50))
        if self.max_limit:
            limit = min(limit or self.max_limit, self.max_limit)
        offset = 0 if self.ignore_offset else int(request.query.get("offset", 0))
        visible = [n for n in sorted(records, key=lambda n: n.name.lower()) if self._can_read(request, n)]
        chosen = visible[offset:] if limit == 0 else visible[offset:offset + limit]
        total = self.claimed_total if self.claimed_total is not None else len(visible)
        return json_reply([n.doc(self.hashsum) for n in chosen], headers={"Girder-Total-Count": str(total)})

    def _can_read(self, request: Request, node: Node) -> bool:
        try:
            self.check_access(request, node)
            return True
        except Reply:
            return False

    def _routes(self) -> None:
        route = self.server.route
        api = "/api/v1"

        @route("POST", api + "/api_key/token")
        def api_key_token(request):
            key = (request.query if self.key_in_query_only else request.form()).get("key")
            if not key:
                raise self.error(400, "Parameter 'key' is required.", "validation")
            if key not in self.api_keys:
                raise self.error(400, "Invalid API key.", "validation")
            token = f"tok{new_id()}"
            self.tokens[token] = self.api_keys[key]
            return json_reply({"user": {"_id": "u1", "login": self.api_keys[key]},
                               "authToken": {"token": token, "expires": "2030-01-01T00:00:00+00:00",
                                             "scope": ["core.user_auth"]}})

        @route("GET", api + "/resource/lookup")
        def lookup(request):
            path = request.query.get("path", "").rstrip("/")
            for node in self.nodes.values():
                if node.model != "file" and node.path() == path:
                    self.check_access(request, node)
                    return json_reply(node.doc(self.hashsum))
            raise self.error(400, f"Path not found: {path}")

        @route("GET", api + r"/resource/(?P<id>\w+)/path")
        def resource_path(request):
            node = self.node(request, request.params["id"], request.query.get("type", ""))
            return json_reply(node.path())

        @route("GET", api + "/folder")
        def folders(request):
            parent = self.node(request, request.query.get("parentId", ""), request.query.get("parentType", "folder"))
            return self.page(request, [c for c in parent.children_of() if c.model == "folder"])

        @route("GET", api + "/item")
        def items(request):
            folder = self.node(request, request.query.get("folderId", ""), "folder")
            return self.page(request, [c for c in folder.children_of() if c.model == "item"])

        for model in ("folder", "item", "file"):
            route("GET", api + rf"/{model}/(?P<id>\w+)")(
                lambda request, model=model: json_reply(self.node(request, request.params["id"], model)
                                                        .doc(self.hashsum)))

        @route("GET", api + r"/item/(?P<id>\w+)/files")
        def item_files(request):
            return self.page(request, self.node(request, request.params["id"], "item").children_of())

        @route("GET", api + r"/file/(?P<id>\w+)/download")
        def download(request):
            node = self.node(request, request.params["id"], "file")
            reply = file_reply(request, node.data, {"Content-Disposition": f'attachment; filename="{node.name}"'})
            if node.id in self.cut_once:          # a connection lost mid-file, once
                self.cut_once.discard(node.id)
                reply.truncate = len(reply.body) // 2
            return reply

        @route("GET", api + r"/item/(?P<id>\w+)/tiles")
        def tiles(request):
            return json_reply(self.tile_metadata(self.slide_item(request)))

        @route("GET", api + r"/item/(?P<id>\w+)/tiles/region")
        def region(request):
            return self.region(request, self.slide_item(request))

        @route("GET", api + r"/annotation/item/(?P<id>\w+)")
        def annotations(request):
            item = self.node(request, request.params["id"], "item")
            return json_reply(item.annotations)

    # ----- large_image
    def slide_item(self, request: Request) -> Node:
        item = self.node(request, request.params["id"], "item")
        if not item.slide:
            raise self.error(400, "No large image file in this item.")
        return item

    @staticmethod
    def tile_metadata(item: Node) -> dict:
        slide = item.slide
        levels = max(1, math.ceil(math.log2(max(slide["sizeX"], slide["sizeY"]) / 256)) + 1)
        return {"levels": levels, "sizeX": slide["sizeX"], "sizeY": slide["sizeY"], "tileWidth": 256,
                "tileHeight": 256, "magnification": slide["magnification"], "mm_x": slide["mm_x"],
                "mm_y": slide["mm_x"], "dtype": "uint8", "bandCount": 3}

    def region(self, request: Request, item: Node) -> Reply:
        """large_image's rule: scale = native_mm / requested_mm (or mag / native mag), unclamped."""
        from PIL import Image

        q, slide = request.query, item.slide
        left, top = float(q.get("left", 0)), float(q.get("top", 0))
        right, bottom = float(q.get("right", slide["sizeX"])), float(q.get("bottom", slide["sizeY"]))
        width_px, height_px = right - left, bottom - top
        if "mm_x" in q:
            scale = slide["mm_x"] / float(q["mm_x"])
        elif "magnification" in q:
            scale = float(q["magnification"]) / slide["magnification"]
        else:
            scale = 1.0
        size = (max(1, round(width_px * scale)), max(1, round(height_px * scale)))
        image = slide_pixels(int(left), int(top), int(width_px), int(height_px)).resize(size, Image.BILINEAR)
        encoding = q.get("encoding", "JPEG").upper()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG" if encoding == "PNG" else "JPEG", quality=int(q.get("jpegQuality", 95)))
        return Reply(200, buffer.getvalue(), {"Content-Type": "image/png" if encoding == "PNG" else "image/jpeg"})


def slide_pixels(left: int, top: int, width: int, height: int):
    """Deterministic synthetic slide content: a colour gradient of base-pixel coordinates."""
    import numpy as np
    from PIL import Image

    ys, xs = np.mgrid[top:top + height, left:left + width]
    rgb = np.stack([(xs // 4) % 256, (ys // 4) % 256, ((xs + ys) // 8) % 256], axis=-1).astype("uint8")
    return Image.fromarray(rgb, "RGB")


def annotation_document(item: Node, name: str = "Annotation 1") -> dict:
    """A full large_image annotation document as `annotation/item/{id}` returns it."""
    return {"_id": new_id(), "itemId": item.id, "creatorId": "u1", "created": "2019-01-01T00:00:00+00:00",
            "updated": "2019-01-01T00:00:00+00:00", "public": True, "_version": 3, "groups": ["tumor"],
            "annotation": {"name": name, "description": "", "attributes": {}, "display": {"visible": "new"},
                           "elements": [{"id": "5c0e" + "0" * 20, "type": "polyline", "closed": True,
                                         "points": [[100, 100, 0], [300, 100, 0], [300, 250, 0]],
                                         "group": "tumor", "label": {"value": "tumor"},
                                         "lineColor": "rgb(0,0,0)", "lineWidth": 2}]}}
