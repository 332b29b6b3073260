"""A doi.org emulator: `GET /<doi>` answers 302 with the registered landing page (404 otherwise),
like the real resolver; clients follow the redirect and read the final URL."""
from __future__ import annotations

from dataclasses import dataclass, field

from .service import Emulator, EmulatorServer, Reply, Request

SITE = "https://doi.org"


@dataclass
class DoiResolver(Emulator):
    ORIGINS = {SITE: "server"}

    server: EmulatorServer = field(default_factory=EmulatorServer)
    targets: dict[str, str] = field(default_factory=dict)   # lower-case doi -> landing URL

    def __post_init__(self):
        self.server.route("GET", r"/(?P<doi>10\..+)")(self.resolve)
        self.server.route("HEAD", r"/(?P<doi>10\..+)")(self.resolve)

    def add(self, doi: str, landing: str) -> None:
        self.targets[doi.lower()] = landing

    def resolve(self, request: Request) -> Reply:
        target = self.targets.get(request.params["doi"].lower())
        if target is None:
            return Reply(404, "<html><body>DOI Not Found</body></html>", content_type="text/html")
        return Reply(302, f'<html><a href="{target}">here</a></html>', {"Location": target},
                     content_type="text/html;charset=utf-8")
