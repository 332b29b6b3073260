"""A figshare emulator (API v2 + download hosts), faithful to the reference page:

* `api.figshare.com/v2/articles/{id}[/versions/{v}]` (ArticleComplete: `folder_structure`,
  `is_embargoed`, `download_disabled`, `files` truncated to 10 like the real article JSON) and
  `/files` with page/page_size paging: default 10 a page, capped at `max_page_size`, no total and
  no next link; `/v2/collections/{id}/articles` paged the same way.
* `ndownloader.figshare.com/files/{id}` -> 302 to a separate storage host (signed URL, Range 206,
  `content-disposition`); `figshare.com/ndownloader/files/{id}` answers the AWS WAF challenge:
  202, empty body, `x-amzn-waf-action: challenge`. `waf_everywhere=True` puts the challenge on
  the ndownloader host too.
* Link-only files (`is_link_only`) point to an external host, size 0, no md5.
* Errors `{"code", "message"}`: 404 unknown ids.
"""
from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from urllib.parse import quote

from .service import Emulator, EmulatorServer, Reply, Request, file_reply, json_reply

API = "https://api.figshare.com"
WWW = "https://figshare.com"
NDOWNLOADER = "https://ndownloader.figshare.com"
STORAGE = "https://s3-eu-west-1.amazonaws.com"
EXTERNAL = "https://external.example.org"
DEFAULT_PAGE_SIZE = 10
_ids = itertools.count(3000001)


@dataclass
class FigFile:
    id: int
    name: str
    data: bytes
    folder: str = ""
    link_only: bool = False


@dataclass
class Article:
    id: int
    files: list[FigFile]
    version: int = 1
    embargoed: bool = False
    versions: dict[int, list[FigFile]] = field(default_factory=dict)


@dataclass
class FigshareEmulator(Emulator):
    ORIGINS = {API: "api", WWW: "www", NDOWNLOADER: "ndownloader", STORAGE: "storage", EXTERNAL: "external"}

    max_page_size: int = 1000
    offset_only: bool = False         # a server that pages only with limit/offset (ignores `page`)
    waf_everywhere: bool = False
    www_download_urls: bool = False   # listings give figshare.com/ndownloader URLs (WAF-guarded)
    api: EmulatorServer = field(default_factory=EmulatorServer)
    www: EmulatorServer = field(default_factory=EmulatorServer)
    ndownloader: EmulatorServer = field(default_factory=EmulatorServer)
    storage: EmulatorServer = field(default_factory=EmulatorServer)
    external: EmulatorServer = field(default_factory=EmulatorServer)
    articles: dict[int, Article] = field(default_factory=dict)
    collections: dict[int, list[int]] = field(default_factory=dict)
    blobs: dict[int, FigFile] = field(default_factory=dict)

    def __post_init__(self):
        self.api.route("GET", r"/v2/articles/(?P<id>\d+)")(self.article)
        self.api.route("GET", r"/v2/articles/(?P<id>\d+)/versions/(?P<v>\d+)")(self.article)
        self.api.route("GET", r"/v2/articles/(?P<id>\d+)/files")(self.article_files)
        self.api.route("GET", r"/v2/articles/(?P<id>\d+)/versions/(?P<v>\d+)/files")(self.article_files)
        self.api.route("GET", r"/v2/collections/(?P<id>\d+)/articles")(self.collection_articles)
        self.www.route("GET", r"/ndownloader/files/(?P<id>\d+)")(self.waf_challenge)
        self.ndownloader.route("GET", r"/files/(?P<id>\d+)")(self.redirect_to_storage)
        self.storage.route("GET", r"/pstorage-figshare/(?P<id>\d+)/(?P<name>.+)")(self.stored)
        self.external.route("GET", r"/(?P<id>\d+)/(?P<name>.+)")(self.stored)

    # -- set-up -------------------------------------------------------------------------------
    def add_article(self, files: dict[str, bytes], article_id: int | None = None, link_only=(),
                    **options) -> Article:
        article_id = article_id or next(_ids)
        figfiles = []
        for path, data in files.items():
            folder, _, name = path.rpartition("/")
            figfile = FigFile(next(_ids), name, data, folder, link_only=path in link_only)
            self.blobs[figfile.id] = figfile
            figfiles.append(figfile)
        article = Article(article_id, figfiles, **options)
        article.versions.setdefault(article.version, figfiles)
        self.articles[article_id] = article
        return article

    def add_version(self, article_id: int, version: int, files: dict[str, bytes]) -> None:
        article = self.articles[article_id]
        newer = self.add_article(files, article_id=article_id, version=version)
        newer.versions = {**article.versions, version: newer.files}

    def add_collection(self, collection_id: int, article_ids: list[int]) -> None:
        self.collections[collection_id] = article_ids

    # -- documents ----------------------------------------------------------------------------
    def _article(self, request: Request) -> Article:
        article = self.articles.get(int(request.params["id"]))
        if article is None:
            raise json_reply({"code": "EntityNotFound", "message": "Entity not found: article"}, 404)
        return article

    def _files(self, request: Request) -> list[FigFile]:
        article = self._article(request)
        version = request.params.get("v")
        if version is None:
            return article.files
        if int(version) not in article.versions:
            raise json_reply({"code": "EntityNotFound", "message": "Entity not found: version"}, 404)
        return article.versions[int(version)]

    def public_file(self, f: FigFile) -> dict:
        md5 = hashlib.md5(f.data).hexdigest()
        if f.link_only:
            return {"id": f.id, "name": f.name, "size": 0, "is_link_only": True,
                    "download_url": f"{EXTERNAL}/{f.id}/{f.name}", "supplied_md5": "", "computed_md5": "",
                    "mimetype": "text/html"}
        host = f"{WWW}/ndownloader" if self.www_download_urls else NDOWNLOADER
        return {"id": f.id, "name": f.name, "size": len(f.data), "is_link_only": False,
                "download_url": f"{host}/files/{f.id}", "supplied_md5": md5, "computed_md5": md5,
                "mimetype": "application/octet-stream"}

    def page(self, request: Request, items: list) -> list:
        """page/page_size (default 10, capped) or limit/offset, like the real API."""
        if "limit" in request.query or "offset" in request.query or self.offset_only:
            size = min(int(request.query.get("limit", DEFAULT_PAGE_SIZE)), self.max_page_size)
            start = int(request.query.get("offset", 0))
        else:
            size = min(int(request.query.get("page_size", DEFAULT_PAGE_SIZE)), self.max_page_size)
            start = (int(request.query.get("page", 1)) - 1) * size
        return items[start:start + size]

    # -- routes -------------------------------------------------------------------------------
    def article(self, request: Request) -> Reply:
        article = self._article(request)
        files = self._files(request)
        folders = {str(f.id): f.folder for f in files if f.folder}
        return json_reply({"id": article.id, "title": f"article {article.id}", "version": article.version,
                           "doi": f"10.6084/m9.figshare.{article.id}.v{article.version}",
                           "is_embargoed": article.embargoed, "embargo_reason": "until publication" if
                           article.embargoed else "", "download_disabled": False, "is_public": True,
                           "has_linked_file": any(f.link_only for f in files), "folder_structure": folders,
                           "files": [self.public_file(f) for f in files[:10]]})

    def article_files(self, request: Request) -> Reply:
        if self._article(request).embargoed:
            raise json_reply({"code": "Forbidden", "message": "Article is embargoed"}, 403)
        return json_reply([self.public_file(f) for f in self.page(request, self._files(request))])

    def collection_articles(self, request: Request) -> Reply:
        ids = self.collections.get(int(request.params["id"]))
        if ids is None:
            raise json_reply({"code": "EntityNotFound", "message": "Entity not found: collection"}, 404)
        return json_reply([{"id": i, "title": f"article {i}", "doi": f"10.6084/m9.figshare.{i}",
                            "url_public_api": f"{API}/v2/articles/{i}", "defined_type": 3,
                            "timeline": {"posted": "2024-01-01T00:00:00"}} for i in self.page(request, ids)])

    def waf_challenge(self, request: Request) -> Reply:
        return Reply(202, b"", {"x-amzn-waf-action": "challenge", "Content-Type": "text/html"})

    def redirect_to_storage(self, request: Request) -> Reply:
        if self.waf_everywhere:
            return self.waf_challenge(request)
        f = self.blobs.get(int(request.params["id"]))
        if f is None:
            raise Reply(404, b"<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml")
        stored_name = quote(f.name, errors="surrogatepass")     # names travel percent-encoded
        return Reply(302, b"", {"Location": f"{STORAGE}/pstorage-figshare/{f.id}/{stored_name}"
                                            "?X-Amz-Signature=0123abcd&X-Amz-Expires=10"})

    def stored(self, request: Request) -> Reply:
        f = self.blobs.get(int(request.params["id"]))
        if f is None:
            raise Reply(404, b"<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml")
        disposition = f"attachment;filename={quote(f.name, errors='surrogatepass')}"
        return file_reply(request, f.data, {"content-disposition": disposition})
