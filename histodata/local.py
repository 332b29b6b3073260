"""Datasets on disk: `histodata.load(id)` and `histodata list --local` / `histodata status`."""
from __future__ import annotations

import contextlib
import os
import re
from functools import cached_property
from pathlib import Path
from typing import Any

from .constants import data_root
from .errors import HistodataError, StandardizeError
from .hf import to_hf
from .layout import PARTIAL_DIR, DatasetPaths, dataset_paths
from .record import DatasetRecord
from .registry.loader import canonical_id, load_registry, unknown_id
from .standardize.optional import require
from .wsi import is_whole_slide, open_slide

ARRAY_SUFFIXES = (".h5", ".hdf5", ".npy")


class Dataset:
    """A standardized local dataset: `.root` (its folder), `.manifest` (pandas DataFrame, one row
    per sample), `.classes` (label names in index order), `.class_map`, `.info` (the record) and
    `.partial` (True when only part of the dataset was fetched: the manifest lists that part).

    Whole-slide rows are read lazily: `slide(row)` (an OpenSlide object or a `TiffSlide`),
    `read_region(row, location, level, size)` and `thumbnail(row, size)`; `read_image` refuses them."""

    def __init__(self, paths: DatasetPaths, record: dict):
        self.paths = paths
        self.root: Path = paths.base
        self.info: dict = record
        self.id = paths.id

    def __repr__(self) -> str:
        part = ", partial" if self.partial else ""
        return (f"<histodata.Dataset {self.id!r} at {self.root} "
                f"({self.info['standardized'].get('samples')} samples{part})>")

    @property
    def partial(self) -> bool:
        """Only part of the dataset is on disk (a `--files`/`--where` fetch): the manifest lists it."""
        return bool(self.info.get("standardized", {}).get("partial"))

    def __len__(self) -> int:
        return len(self.manifest)

    @cached_property
    def manifest(self):
        import pandas as pd  # heavy: imported on first use

        return pd.read_parquet(self.paths.manifest)

    @property
    def class_map(self) -> dict:
        return self.info.get("standardized", {}).get("class_map", {})

    @property
    def classes(self) -> list[str]:
        """Label names in index order (mask value names when the dataset has only masks)."""
        cmap = self.class_map
        if cmap.get("labels"):
            return list(cmap["labels"])
        return [str(v) for _, v in sorted(((int(k), v) for k, v in (cmap.get("mask_values") or {}).items()))]

    def path(self, relative: str) -> Path:
        """The absolute path of a manifest path (they are relative to the dataset folder)."""
        return self.root / relative

    def _row(self, row: int | Any):
        return self.manifest.iloc[row] if isinstance(row, int) else row

    def read_image(self, row: int | Any):
        """The image of a sample as a numpy array (H, W, C), from its file or its array row.
        A whole-slide image is refused (level 0 of a slide can need tens of GB): use `slide`,
        `read_region` or `thumbnail`."""
        row = self._row(row)
        path = self.path(row["image"])
        if _missing(row.get("index")) and is_whole_slide(path):
            raise StandardizeError(
                f"{row['image']} is a whole-slide image; read_image would decode level 0 whole (often "
                "tens of GB).", "Read it lazily: `ds.slide(row)` (an OpenSlide or tifffile-backed reader), "
                "`ds.read_region(row, location, level, size)` or `ds.thumbnail(row, size)`.")
        return read_array(path, row.get("image_key"), row.get("index"), rgb=True)

    def slide(self, row: int | Any, backend: str = "auto"):
        """The whole-slide image of a row, opened lazily: an `openslide.OpenSlide` when OpenSlide is
        installed and reads it (SVS, NDPI, MIRAX, TIFF, DICOM series with OpenSlide 4), else a
        tifffile-backed `histodata.wsi.TiffSlide` for TIFFs (`backend="tifffile"` forces it). Both
        have `dimensions`, `level_count`, `level_dimensions`, `read_region`, `get_thumbnail`, `close`."""
        return open_slide(self.path(self._row(row)["image"]), backend)

    def read_region(self, row: int | Any, location: tuple[int, int], level: int, size: tuple[int, int],
                    backend: str = "auto"):
        """A region of a slide as a uint8 RGB array (H, W, 3): `location` is its top-left corner in
        level-0 pixels, `size` (width, height) in pixels of `level` (OpenSlide's convention)."""
        import numpy as np  # heavy: imported on first use

        with _closing(self.slide(row, backend)) as slide:
            return np.asarray(slide.read_region(tuple(location), level, tuple(size)).convert("RGB"))

    def thumbnail(self, row: int | Any, size: tuple[int, int] = (512, 512), backend: str = "auto"):
        """A slide's thumbnail fitting in `size` (width, height) as a uint8 RGB array."""
        import numpy as np  # heavy: imported on first use

        with _closing(self.slide(row, backend)) as slide:
            return np.asarray(slide.get_thumbnail(tuple(size)).convert("RGB"))

    def read_mask(self, row: int | Any):
        """The mask of a sample as a numpy array, or None when it has none."""
        row = self._row(row)
        if _missing(row.get("mask")):
            return None
        return read_array(self.path(row["mask"]), row.get("mask_key"), row.get("index"), rgb=False)

    def to_hf(self):
        """The manifest as a Hugging Face `datasets.DatasetDict` (one Dataset per split; a Dataset when
        there are no splits): images and masks as `Image` features pointing at the files (no bytes
        copied), labels as a `ClassLabel` over `classes`. Needs the `hf` extra (see `histodata.hf`)."""
        return to_hf(self)


@contextlib.contextmanager
def _closing(slide):
    try:
        yield slide
    finally:
        slide.close()


def _missing(value) -> bool:
    import pandas as pd  # heavy: imported on first use

    return value is None or (not isinstance(value, (list, tuple)) and pd.isna(value))


def read_array(path: Path, key=None, index=None, rgb: bool = True):
    """Read an image or mask: a row of an HDF5/NPY array, a TIFF, or any Pillow format."""
    import numpy as np  # heavy: imported on first use

    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        h5py = require("h5py", "hdf5")
        with h5py.File(path, "r") as handle:
            data = handle[key or next(iter(handle.keys()))]
            value = data[int(index)] if not _missing(index) else data[()]
    elif suffix == ".npy":
        array = np.load(path, mmap_mode="r")
        value = np.asarray(array[int(index)] if not _missing(index) else array)
    elif suffix in (".tif", ".tiff"):
        import tifffile  # heavy: imported on first use

        value = tifffile.imread(path)
    else:
        from PIL import Image  # heavy: imported on first use

        try:
            with Image.open(path) as image:
                value = np.asarray(image.convert("RGB") if rgb and image.mode not in ("RGB", "L") else image)
        except Image.DecompressionBombError as err:
            raise too_many_pixels(path, err, Image.MAX_IMAGE_PIXELS) from None
    if rgb and value.dtype != np.uint8 and value.ndim == 3:
        value = np.clip(value, 0, 255).astype(np.uint8)
    return value


def too_many_pixels(path: Path, err: Exception, limit: int | None) -> StandardizeError:
    """Pillow's bomb guard refused an image: say which, how big, and how to read it anyway."""
    claimed = re.search(r"\(([0-9]+) pixels\)", str(err))   # Pillow's message: "Image size (N pixels) ..."
    pixels = f"{int(claimed.group(1)):,} pixels" if claimed else "more pixels than Pillow's limit"
    return StandardizeError(f"{path} claims {pixels}, more than Pillow decodes by default "
                            f"({2 * (limit or 0):,}); it may be damaged or a decompression bomb.",
                            "If you trust the file, raise the limit first: "
                            "`PIL.Image.MAX_IMAGE_PIXELS = None` (or a larger number).")


def load(dataset_id: str, root: str | os.PathLike | None = None, download: bool = False) -> Dataset:
    """The standardized local dataset `dataset_id`; with `download=True` it is fetched first when
    it is not standardized on disk (as `histodata fetch ID`), else run `histodata fetch ID` first.
    A dataset fetched in part (`--files`, `--where`) loads as that part (`.partial` is True).

    Whole-slide datasets (the `slides` standardizer: TCGA, CPTAC, ...; CAMELYON, HEROHE) list one
    slide per manifest row; `image` is a slide file (`.svs`, ...) or a folder of DICOM instances
    (one series), relative to `dataset.root`, and the source's metadata (`project`, `case`,
    `patient_id`, ...) are columns. Slides are read lazily, never whole:

        ds = histodata.load("tcga")
        slide = ds.slide(0)                                   # OpenSlide, or tifffile for TIFFs
        tile = ds.read_region(0, (10_000, 20_000), 0, (512, 512))   # uint8 RGB array
        small = ds.thumbnail(0, (1024, 1024))
    """
    if not dataset_paths(dataset_id, root).base.is_dir():      # a local folder of this name wins
        dataset_id = canonical_id(dataset_id)
    paths = dataset_paths(dataset_id, root)
    record = DatasetRecord.read(paths)
    if not paths.base.is_dir() and dataset_id not in load_registry():
        raise unknown_id(dataset_id, load_registry().ids())
    if download and (not record.standardized or not paths.manifest.exists()):
        from .pipeline import fetch as fetch_dataset  # heavy: the download machinery, only to fetch

        fetch_dataset(dataset_id, root=root)
        record = DatasetRecord.read(paths)
    if not record.standardized or not paths.manifest.exists():
        state = "has raw files but is not standardized" if paths.raw.is_dir() else "is not on disk"
        raise StandardizeError(f"dataset {dataset_id!r} {state} (looked in {paths.base}).",
                               f"Run `histodata fetch {dataset_id}`"
                               + (f" --root {root}" if root else "") + " first (or `load(..., download=True)`).")
    return Dataset(paths, record.to_dict())


# ----------------------------------------------------------------------------- list / status
def folder_size(folder: Path) -> int:
    """Bytes on disk below `folder`, hard links counted once."""
    seen, total = set(), 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def dataset_state(paths: DatasetPaths, record: DatasetRecord) -> str:
    if record.standardized and paths.manifest.exists():
        return "ready"
    if (paths.base / PARTIAL_DIR).exists() or (record.fetch is not None and not record.fetch.complete):
        return "partial download"    # a fetch left files of its list missing (a failure, --files, --from)
    if record.files or (paths.raw.is_dir() and any(paths.raw.iterdir())):
        return "raw only"
    return "empty"


def local_datasets(root: str | os.PathLike | None = None) -> list[dict]:
    """One dict per dataset folder in the data root: id, state, size, samples, standardizer,
    partial (only part of it is standardized), raw_dropped (raw files removed on purpose)."""
    base = data_root(root)
    result = []
    for folder in sorted(base.iterdir()) if base.is_dir() else []:
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        paths = DatasetPaths(base, folder.name)
        if not (paths.record.exists() or paths.raw.exists()):
            continue
        try:
            record = DatasetRecord.read(paths)
        except ValueError:
            record = DatasetRecord()
        standardized = record.standardized
        result.append({"id": folder.name, "state": dataset_state(paths, record), "bytes": folder_size(folder),
                       "samples": standardized.get("samples"), "standardizer": standardized.get("standardizer"),
                       "partial": bool(standardized.get("partial")), "raw_dropped": len(record.dropped_files),
                       "path": str(folder)})
    return result


__all__ = ["Dataset", "load", "local_datasets", "HistodataError"]
