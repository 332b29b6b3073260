"""`histodata download URL -o PATH [--md5 H] ...`: the engine on one URL."""
from __future__ import annotations

import sys

from ..errors import HistodataError

ALGORITHMS = ("md5", "sha1", "sha256", "sha512")


def parse_header(text: str) -> tuple[str, str]:
    """'Name: value' -> (name, value)."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise HistodataError(f"invalid --header {name.strip()!r}...: expected 'Name: value'.")
    return name.strip(), value.strip()


def download_command(args) -> int:
    from ..redact import register_secret
    from . import download

    headers = dict(parse_header(h) for h in getattr(args, "header", None) or [])
    for value in headers.values():
        register_secret(value)
    checksums = {name: getattr(args, name) for name in ALGORITHMS if getattr(args, name, None)}
    result = download(args.url, args.output, checksums, args.size, headers,
                      quiet=True if args.quiet else None,
                      allow_html=getattr(args, "allow_html", False))
    if args.json:
        from ..cli import emit_json

        emit_json(result.to_dict())
        return 0
    checked = "+".join(result.verified) + " verified" if result.verified else "no checksum given"
    resumed = f", resumed from byte {result.resumed_from}" if result.resumed_from else ""
    print(f"saved {result.path} ({result.size} bytes, {checked}{resumed}; sha256 {result.hashes['sha256']})",
          file=sys.stderr)
    return 0
