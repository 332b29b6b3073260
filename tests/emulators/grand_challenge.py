"""A grand-challenge.org API emulator, https only (a trustme CA signs its 127.0.0.1 certificate):

* every API answer has `Content-Type` exactly `application/json` (gcapi compares strings);
* `Authorization: Bearer <token>` (scheme case-insensitive) or 401 `{"detail": ...}`;
  archives the user may not read answer 403;
* `GET api/v1/gcapi/` version probe; `archives/?slug=`, `archives/<pk>/`;
* `archives/items/?archive=<pk>&limit&offset` -> `{"count", "next", "previous", "results"}` with
  absolute `next` URLs on https://grand-challenge.org (clients must map them through the mirrors);
* `cases/images/<pk>/` with `files` (TIFF, MHD + ZRAW, DZI); media URLs on grand-challenge.org
  redirect (302) to a signed storage host, which refuses requests that carry the token;
* fault: `repeat_next = True` makes every page's `next` point to the second page, also on the
  second page itself (a paging loop);
* the first request of a list can be made to answer 429 with `Retry-After`.
"""
from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass, field

from .service import Emulator, EmulatorServer, Reply, Request, file_reply, json_reply

PUBLIC = "https://grand-challenge.org"
STORAGE = "https://storage.grand-challenge.example"


@dataclass
class Image:
    name: str
    files: dict[str, bytes]                  # file name -> bytes (image_type from the suffix)
    pk: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Archive:
    slug: str
    items: list[list[tuple[str, object]]] = field(default_factory=list)   # [(socket slug, Image|bytes-file)]
    readers: set[str] = field(default_factory=set)
    pk: str = field(default_factory=lambda: str(uuid.uuid4()))


def tls_contexts(tmp_path):
    """(server SSL context, CA bundle path) from a fresh trustme CA."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    bundle = tmp_path / "gc-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return context, bundle


class GrandChallengeEmulator(Emulator):
    ORIGINS = {PUBLIC: "server", STORAGE: "storage"}

    def __init__(self, ssl_context: ssl.SSLContext, tokens: set[str]):
        self.server = EmulatorServer(ssl_context)
        self.storage = EmulatorServer(ssl_context)    # another host: tokens must not follow redirects
        self.tokens = set(tokens)
        self.archives: dict[str, Archive] = {}
        self.images: dict[str, Image] = {}
        self.files: dict[str, bytes] = {}        # storage key -> bytes
        self.throttle_next = 0                   # answer this many list requests with 429 first
        self.login_page = False                  # answer API calls with an HTML page (maintenance, SSO)
        self.repeat_next = False                 # fault: `next` always names the second page
        self.next_host = None                    # fault: `next` names this host instead of grand-challenge.org
        self._routes()

    def archive(self, slug: str, readers: set[str] | None = None) -> Archive:
        archive = Archive(slug, readers=set(readers if readers is not None else self.tokens))
        self.archives[archive.pk] = archive
        return archive

    def add_item(self, archive: Archive, **sockets) -> None:
        """`add_item(archive, generic_medical_image=Image(...), report=b"...")`."""
        values = []
        for slug, value in sockets.items():
            if isinstance(value, Image):
                self.images[value.pk] = value
            values.append((slug.replace("_", "-"), value))
        archive.items.append(values)

    # ----- documents
    def token(self, request: Request) -> str:
        if self.login_page:
            raise Reply(200, "<html><title>Sign in</title></html>", content_type="text/html; charset=utf-8")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self.tokens:
            raise json_reply({"detail": "Authentication credentials were not provided."}, 401)
        return token.strip()

    def readable(self, request: Request, archive: Archive) -> Archive:
        if self.token(request) not in archive.readers:
            raise json_reply({"detail": "You do not have permission to perform this action."}, 403)
        return archive

    @staticmethod
    def archive_doc(archive: Archive) -> dict:
        return {"pk": archive.pk, "title": archive.slug.upper(), "logo": f"{PUBLIC}/media/logo.png",
                "description": None, "api_url": f"{PUBLIC}/api/v1/archives/{archive.pk}/",
                "url": f"{PUBLIC}/archives/{archive.slug}/"}

    def value_doc(self, index: int, slug: str, value) -> dict:
        is_image = isinstance(value, Image)
        interface = {"pk": index, "title": slug, "slug": slug, "kind": "Image" if is_image else "Anything",
                     "super_kind": "Image" if is_image else "File", "relative_path": f"images/{slug}" if is_image
                     else f"{slug}.json", "description": None, "default_value": None, "overlay_segments": None,
                     "look_up_table": None}
        doc = {"pk": index, "interface": interface, "value": None, "file": None, "image": None}
        if is_image:
            doc["image"] = f"{PUBLIC}/api/v1/cases/images/{value.pk}/"
        else:
            key = f"{uuid.uuid4()}/{slug}.json"
            self.files[key] = value
            doc["file"] = f"{PUBLIC}/media/components/{key}"
        return doc

    def image_doc(self, image: Image) -> dict:
        kinds = {"tif": "TIFF", "tiff": "TIFF", "mhd": "MHD", "zraw": "MHD", "dzi": "DZI"}
        files = []
        for name, data in image.files.items():
            key = f"images/{image.pk}/{name}"
            self.files[key] = data
            files.append({"pk": str(uuid.uuid4()), "image": f"{PUBLIC}/api/v1/cases/images/{image.pk}/",
                          "image_type": kinds.get(name.rsplit(".", 1)[-1].lower(), "TIFF"),
                          "file": f"{PUBLIC}/media/{key}"})
        return {"pk": image.pk, "name": image.name, "api_url": f"{PUBLIC}/api/v1/cases/images/{image.pk}/",
                "files": files, "dicom_image_set": None, "width": 1000, "height": 800, "depth": None,
                "color_space": "RGB", "modality": None, "eye_choice": None, "stereoscopic_choice": None,
                "field_of_view": None, "shape_without_color": [800, 1000], "shape": [800, 1000, 3],
                "voxel_width_mm": 0.000243, "voxel_height_mm": 0.000243, "voxel_depth_mm": None,
                "window_center": None, "window_width": None, "segments": None}

    def page(self, request: Request, path: str, results: list, extra: str = "") -> Reply:
        if self.throttle_next:
            self.throttle_next -= 1
            raise json_reply({"detail": "Request was throttled."}, 429, headers={"Retry-After": "0"})
        limit, offset = int(request.query.get("limit", 100)), int(request.query.get("offset", 0))
        chunk = results[offset:offset + limit]
        more = offset + limit < len(results)
        following = offset + limit if not self.repeat_next else limit
        return json_reply({"count": len(results),
                           "next": (f"{self.next_host or PUBLIC}{path}?{extra}limit={limit}&offset={following}"
                                    if more or self.repeat_next else None),
                           "previous": None, "results": chunk})

    # ----- routes
    def _routes(self) -> None:
        route, api = self.server.route, "/api/v1"

        @route("GET", api + "/gcapi/")
        def version(request):
            return json_reply({"latest_version": "0.13.0", "lowest_supported_version": "0.12.0"})

        @route("GET", api + "/archives/")
        def archives(request):
            self.token(request)
            slug = request.query.get("slug")
            found = [self.archive_doc(a) for a in self.archives.values() if slug in (None, a.slug)]
            return self.page(request, api + "/archives/", found, f"slug={slug}&" if slug else "")

        @route("GET", api + r"/archives/(?P<pk>[0-9a-f-]{36})/")
        def archive(request):
            found = self.archives.get(request.params["pk"])
            if found is None:
                return json_reply({"detail": "Not found."}, 404)
            return json_reply(self.archive_doc(self.readable(request, found)))

        @route("GET", api + "/archives/items/")
        def items(request):
            found = self.archives.get(request.query.get("archive", ""))
            if found is None:
                return json_reply({"detail": "Not found."}, 404)
            self.readable(request, found)
            docs = [{"pk": f"{found.pk[:8]}-item-{n}", "archive": f"{PUBLIC}/api/v1/archives/{found.pk}/",
                     "title": "", "values": [self.value_doc(i, slug, v) for i, (slug, v) in enumerate(values, 1)],
                     "hanging_protocol": None, "optional_hanging_protocols": [], "view_content": {}}
                    for n, values in enumerate(found.items)]
            return self.page(request, api + "/archives/items/", docs, f"archive={found.pk}&")

        @route("GET", api + r"/cases/images/(?P<pk>[0-9a-f-]{36})/")
        def image(request):
            self.token(request)
            found = self.images.get(request.params["pk"])
            if found is None:
                return json_reply({"detail": "Not found."}, 404)
            return json_reply(self.image_doc(found))

        @route("GET", r"/media/(?P<key>.+)")
        def media(request):
            self.token(request)
            if request.params["key"] not in self.files:
                return json_reply({"detail": "Not found."}, 404)
            return Reply(302, b"", {"Location": f"{STORAGE}/{request.params['key']}?X-Amz-Signature=abc123"})

        @self.storage.route("GET", r"/(?P<key>.+)")
        def storage(request):
            if "authorization" in request.headers:     # S3 refuses a second auth mechanism
                return Reply(400, "<Error><Code>InvalidArgument</Code></Error>", content_type="application/xml")
            return file_reply(request, self.files[request.params["key"]])
