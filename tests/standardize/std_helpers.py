"""Helpers for building miniature dataset replicas."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np


def make_entry(dataset_id: str, standardizer: str, **options) -> dict:
    return {"id": dataset_id, "name": dataset_id, "organs": ["breast"], "stains": ["h&e"],
            "tasks": ["classification"], "modality": "patch", "access": "open",
            "standardize": {"with": standardizer, "options": options}}


def save_png(array: np.ndarray, path: Path) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def zip_folder(folder: Path, archive: Path, under: str = "") -> Path:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, (Path(under) / path.relative_to(folder)).as_posix())
    return archive
