"""`histodata download URL -o PATH [--md5 H] ...`: the download engine on one URL."""
from __future__ import annotations

import os
import posixpath
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..console import emit_json
from ..constants import CHECKSUM_ALGORITHMS
from ..credentials import scoped
from ..errors import HistodataError
from ..redact import register_secret
from ..transfer import download as download_url


def parse_header(text: str) -> tuple[str, str]:
    """'Name: value' -> (name, value)."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise HistodataError(f"invalid --header {name.strip()!r}...: expected 'Name: value'.")
    return name.strip(), value.strip()


def output_path(url: str, output: str) -> Path:
    """-o as given, or `<folder>/<the URL's file name>` for an existing folder or a path ending in /."""
    target = Path(output).expanduser()
    if not (target.is_dir() or output.endswith(("/", os.sep))):
        return target
    name = unquote(posixpath.basename(urlsplit(url).path))
    if name in ("", ".", "..") or "/" in name or "\\" in name:
        raise HistodataError(f"-o {output} is a folder and {url} names no file to save in it.",
                             "Give the file's path with -o, e.g. -o DIR/name.zip.")
    return target / name


def download(args) -> int:
    headers = dict(parse_header(h) for h in args.header or [])
    for value in headers.values():
        register_secret(value)
    scoped(headers, args.url)               # the headers given are for this URL's host only
    checksums = {name: getattr(args, name) for name in CHECKSUM_ALGORITHMS if getattr(args, name, None)}
    result = download_url(args.url, output_path(args.url, args.output), checksums, args.size, headers,
                          quiet=True if args.quiet else None, allow_html=args.allow_html,
                          connections=args.connections)
    if args.json:
        emit_json(result.to_dict())
        return 0
    checked = "+".join(result.verified) + " verified" if result.verified else "no checksum given"
    resumed = f", resumed from byte {result.resumed_from}" if result.resumed_from else ""
    print(f"saved {result.path} ({result.size} bytes, {checked}{resumed}; sha256 {result.hashes['sha256']})",
          file=sys.stderr)
    return 0
