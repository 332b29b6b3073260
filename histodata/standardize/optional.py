"""Optional libraries, imported lazily with an error naming the extra that installs them."""
from __future__ import annotations

import importlib

from ..constants import install_command
from ..errors import StandardizeError


def require(module: str, extra: str):
    """Import `module`, or raise a StandardizeError naming the pip command that installs its extra."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise StandardizeError(f"this dataset needs the Python package {module!r}, which is not installed.",
                               f"Install it with: {install_command(extra)}") from err
