"""A ThreadingHTTPServer that never writes to stderr.

socketserver prints a traceback on sys.stderr when a handler thread raises, most often because a
client hung up (ConnectionResetError when the client's pool drops an idle keep-alive connection,
BrokenPipeError mid-answer). sys.stderr belongs to the whole process: a test that runs the CLI in
this process and captures its stderr (tests/security/hostile.py `cli`) would read that server
thread's traceback as the command's own. These servers keep the exception in `errors` instead, a
list a test can inspect.
"""
from __future__ import annotations

import http.server
import sys


class QuietHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args, **kwargs):
        self.errors: list[BaseException] = []     # what a handler thread raised, in order
        super().__init__(*args, **kwargs)

    def handle_error(self, request, client_address) -> None:
        self.errors.append(sys.exc_info()[1])
