"""What a person sees: JSON on standard output, rich consoles, human sizes. Used by the CLI and the
human views (cards, docs); the library itself only logs."""
from __future__ import annotations

import json
import sys

from .redact import redact


def emit_json(document) -> None:
    """One JSON document on standard output, nothing else there."""
    sys.stdout.write(redact(json.dumps(document, indent=2, ensure_ascii=False, default=str)) + "\n")


def stdout_console():
    """A rich console on standard output; when piped, tables are not squeezed into 80 columns."""
    from rich.console import Console  # heavy: rich, imported on first use

    return Console(file=RedactingStream(sys.stdout), soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def stderr_console():
    """A rich console on standard error (spinners, progress)."""
    from rich.console import Console  # heavy: rich, imported on first use

    return Console(file=RedactingStream(sys.stderr))


def human_size(num: int | None) -> str:
    """Bytes in decimal units: 950 B, 1.5 MB, 17.6 TB ('' for None)."""
    if num is None:
        return ""
    size = float(num)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{num} B"


class RedactingStream:
    """A text stream that hides secrets (tokens, URL passwords) in everything written to it."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(redact(text))

    def __getattr__(self, name: str):
        return getattr(self._stream, name)
