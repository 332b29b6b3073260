"""histodata: find, download, verify and use public histopathology datasets.

The public names are imported on first use, so `import histodata` (and the CLI) stay fast.
"""
from __future__ import annotations

import importlib

from ._version import __version__

__all__ = ["__version__", "search", "info", "cite", "fetch", "load", "download", "verify", "HistodataError"]

_LAZY = {
    "search": ("histodata.api", "search"),
    "info": ("histodata.api", "info"),
    "cite": ("histodata.api", "cite"),
    "fetch": ("histodata.pipeline", "fetch"),
    "verify": ("histodata.verification", "verify"),
    "load": ("histodata.local", "load"),
    "download": ("histodata.transfer", "download"),
    "HistodataError": ("histodata.errors", "HistodataError"),
}


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'histodata' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
