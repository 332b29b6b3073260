"""Optional libraries, imported lazily with an error naming the extra that installs them."""
from __future__ import annotations

import importlib

from ..errors import StandardizeError


def require(module: str, extra: str):
    """Import `module`, or raise a StandardizeError saying `pip install "histodata[extra]"`."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise StandardizeError(f"this dataset needs the Python package {module!r}, which is not installed.",
                               f'Install it with: pip install "histodata[{extra}]"') from err
