"""A pyftpdlib FTP server on 127.0.0.1 serving a folder read-only to anonymous users
(SIZE, MDTM and REST supported, like GigaDB's FTP mirror)."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest


class FTPServer:
    """`with FTPServer(folder) as ftp: ftp.url_for("a.bin")` -> ftp://127.0.0.1:PORT/a.bin"""

    def __init__(self, root: str | Path, rate: int = 0, without: tuple[str, ...] = ()):
        self.rate = rate  # bytes/s sent to clients (0 = unthrottled)
        self.without = without  # commands answered with 500, as older servers do (e.g. ("MLSD",))
        self.root = Path(root).absolute()
        self.root.mkdir(parents=True, exist_ok=True)

    def url_for(self, name: str) -> str:
        return f"{self.url}/{name}"

    def __enter__(self) -> "FTPServer":
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler
        from pyftpdlib.ioloop import IOLoop
        from pyftpdlib.servers import ThreadedFTPServer

        logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
        authorizer = DummyAuthorizer()
        authorizer.add_anonymous(str(self.root), perm="elr")
        commands = {name: spec for name, spec in FTPHandler.proto_cmds.items() if name not in self.without}
        handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "passive_ports": None,
                                                  "proto_cmds": commands})
        if self.rate:
            handler.dtp_handler = type("Throttled", (ThrottledDTPHandler,), {"write_limit": self.rate})
        # An IOLoop of its own: pyftpdlib's shared default loop would tie servers' lifetimes together.
        self.server = ThreadedFTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())
        self.url = f"ftp://127.0.0.1:{self.server.address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"timeout": 0.1},
                                       daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.close_all()
        self.thread.join(timeout=10)


@pytest.fixture
def ftp_server(tmp_path):
    with FTPServer(tmp_path / "ftp") as server:
        yield server
