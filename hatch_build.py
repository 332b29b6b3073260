"""Build hook: validate the registry and ship a prebuilt JSON index of it in the wheel.

A wheel is never built from an invalid registry.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        sys.path.insert(0, str(root))
        try:
            from histodata.registry import loader
        finally:
            sys.path.pop(0)
        folder = root / "registry"
        contents, fingerprint = loader.read_files(folder)
        entries, problems = loader.validate_folder(folder)
        if problems:
            raise RuntimeError("invalid registry:\n" + "\n".join(str(p) for p in problems))
        out = Path(tempfile.mkdtemp()) / "registry_index.json"
        loader.write_index(out, fingerprint, entries)
        build_data["force_include"][str(out)] = "histodata/_data/registry_index.json"
