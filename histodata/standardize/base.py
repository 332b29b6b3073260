"""What every standardizer shares: the context it works in, the manifest, linking and extraction."""
from __future__ import annotations

import functools
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .. import archives, temporaries
from ..errors import StandardizeError
from ..layout import DatasetPaths
from ..record import DatasetRecord
from ..progress import track_items
from .spec import Standardizer

MANIFEST_COLUMNS = ["sample_id", "split", "image", "label", "mask", "annotation", "slide_id", "patient_id",
                    "source", "width", "height", "mpp", "magnification", "center"]
INTEGER_COLUMNS = {"width", "height", "index"}
FLOAT_COLUMNS = {"mpp", "magnification"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".svs", ".ndpi",
                  ".mrxs", ".scn", ".vms", ".bif", ".czi", ".jp2"}
SKIPPED_NAMES = {"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini"}
EXTRACTED_DIR = "extracted"


@dataclass
class Result:
    """What a standardizer returns: the manifest rows (a DataFrame or a dict of columns) and the
    class map (`labels`: label names in index order; `mask_values`: mask value -> name; ...)."""

    manifest: Any
    class_map: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)


@dataclass
class Context:
    """The dataset being standardized: its entry, paths, options and dataset record, and the
    standardizer at work (whose declared options are the only ones `option()` reads)."""

    entry: Any
    paths: DatasetPaths
    options: dict
    record: DatasetRecord
    standardizer: Standardizer
    quiet: bool | None = None
    runner: Any = None      # a cluster.ClusterRunner: `map` runs per-sample steps as Dask tasks

    def __getstate__(self) -> dict:
        """Shipped to the workers with a per-sample step: everything but the runner (the client)."""
        return {**self.__dict__, "runner": None}

    # ------------------------------------------------------------------ paths
    def rel(self, path: Path) -> str:
        """A path relative to the dataset folder, '/'-separated (what the manifest stores)."""
        return Path(os.path.relpath(path, self.paths.base)).as_posix()

    def raw_name(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.paths.raw)).as_posix()

    def raw_files(self) -> list[Path]:
        """Every file under raw/, sorted, without hidden and OS-junk files."""
        if not self.paths.raw.is_dir():
            raise StandardizeError(f"no raw files for {self.paths.id} in {self.paths.raw}.",
                                   f"Run `histodata fetch {self.paths.id}` first.")
        return sorted(walk_files(self.paths.raw))

    def option(self, name: str) -> Any:
        """The entry's value of option `name` (also spelt with `-`), else its declared default."""
        declared = self.standardizer.options.get(name)
        if declared is None:
            raise StandardizeError(f"the {self.standardizer.name} standardizer reads option {name!r}, which it "
                                   "does not declare.", "This is a bug; please report it.")
        return self.options.get(name, self.options.get(name.replace("_", "-"), declared.default))

    # ------------------------------------------------------------------ raw files
    def sha256_of(self, raw_name: str) -> str | None:
        """The verified sha256 of a raw file, from the dataset record when the fetch wrote it."""
        info = self.record.files.get(raw_name)
        return (info.sha256 or None) if info else None

    def extract(self, archive: Path, target: Path, wrap_loose: bool = False,
                own_folder: bool = False) -> archives.Extraction:
        """Extract a raw archive once into `target` (safe; idempotent through a marker keyed by its
        raw path; archives inside it are extracted too)."""
        name = self.raw_name(archive)
        return archives.extract(archive, target, sha256=self.sha256_of(name), limits=self.archive_limits(),
                                wrap_loose=wrap_loose, key=name, own_folder=own_folder, nested=True)

    def archive_limits(self) -> archives.Limits | None:
        custom = self.option("archive_limits")
        if not custom:
            return None
        base = archives.Limits.from_env()
        return archives.Limits(**{**base.__dict__, **custom})

    @functools.cached_property
    def _claims(self) -> tuple[set[str], Counter]:
        """Every raw file with its folders, and how many archives / .gz files want each stem path."""
        places: set[str] = set()
        stems: Counter = Counter()
        for path in self.raw_files():
            name = self.raw_name(path)
            parts = name.split("/")
            places.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
            if archives.is_archive(name) or name.lower().endswith(".gz"):
                stems[_stem_path(name)] += 1
        return places, stems

    def target_name(self, archive: Path) -> str:
        """Where a raw archive unpacks, relative to the folder that holds unpacked files: its raw
        path without the archive suffix (`train/images.zip` -> `train/images`), or its whole raw
        path when another raw file, folder or archive already claims that name. Unique per raw file."""
        name = self.raw_name(archive)
        places, stems = self._claims
        wanted = _stem_path(name)
        return wanted if wanted not in places and stems[wanted] <= 1 else name

    def extracted_dir(self, archive: Path) -> Path:
        return self.paths.base / EXTRACTED_DIR / self.target_name(archive)

    def inputs(self) -> list[tuple[Path, str]]:
        """Every input file with the raw file it came from: archives are extracted once into their
        own folder under extracted/ (`target_name`) and stand for their members; `.gz` files are
        decompressed there; other raw files stand for themselves."""
        self._claims      # noqa: B018 - computed once here, not on every worker
        return [pair for pairs in self.map(self._input, self.raw_files(), "unpacking") for pair in pairs]

    def _input(self, path: Path) -> list[tuple[Path, str]]:
        """The input files one raw file stands for (an archive: its members, extracted once)."""
        name = self.raw_name(path)
        if archives.is_archive(path):
            folder = self.extract(path, self.extracted_dir(path), own_folder=True).folder
            return [(member, name) for member in sorted(walk_files(folder))]
        if path.name.lower().endswith(".gz") and self.option("gunzip"):
            dest = self.paths.base / EXTRACTED_DIR / _stem_path(name)
            archives.gunzip(path, dest, sha256=self.sha256_of(name), limits=self.archive_limits(), key=name)
            return [(dest, name)]
        return [(path, name)]

    # ------------------------------------------------------------------ placing files
    def place(self, source: Path, dest: Path) -> Path:
        """Hard-link `source` to `dest` (no copy); where links are impossible, keep it in place."""
        if dest.exists():
            if _same_file(source, dest):
                return dest
            dest.unlink()
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, dest)
        except FileExistsError:   # another process linked it first
            return dest if _same_file(source, dest) else source
        except OSError:
            return source
        return dest

    def place_tree(self, source: Path, dest: Path) -> Path:
        """Hard-link every file of a folder (MIRAX .dat folders), keeping the structure."""
        for path in walk_files(source, skip_hidden=False):
            self.place(path, dest / path.relative_to(source))
        return dest

    # ------------------------------------------------------------------ per-sample steps
    def map(self, function, items: Iterable, description: str = "") -> list:
        """`[function(x) for x in items]`, order kept: one step per sample (extract an archive,
        convert an annotation, read a header) that needs nothing but its item and this context.
        On a cluster (`fetch --cluster`) the steps run as tasks on the workers; else here."""
        items = list(items)
        if self.runner is not None and len(items) > 1:
            return self.runner.map(function, items)
        return [function(item) for item in self.track(items, len(items), description or "working")]

    # ------------------------------------------------------------------ progress
    def track(self, items: Iterable, total: int | None, description: str, unit: str = "files") -> Iterator:
        """Iterate with the download display's count, rate and ETA on standard error (only on a
        terminal, never when quiet)."""
        quiet = True if total is not None and total < 50 else self.quiet
        return track_items(items, total, f"{self.paths.id}: {description}", quiet, unit)


def _stem_path(raw_name: str) -> str:
    """`a/b/tiles.tar.gz` -> `a/b/tiles`."""
    folder, _, base = raw_name.rpartition("/")
    stem = archives.archive_stem(base)
    return f"{folder}/{stem}" if folder else stem


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def walk_files(folder: Path, skip_hidden: bool = True) -> Iterator[Path]:
    """Every regular file below `folder` (fast: os.scandir), without OS junk and hidden files."""
    return map(Path, walk_paths(folder, skip_hidden))


def walk_paths(folder: Path | str, skip_hidden: bool = True) -> Iterator[str]:
    """Like walk_files, as plain strings (for folders of 100,000s of files)."""
    stack = [str(folder)]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except FileNotFoundError:
            continue
        for item in entries:
            if item.name in SKIPPED_NAMES or (skip_hidden and item.name.startswith(".")):
                continue
            if item.is_dir(follow_symlinks=False):
                stack.append(item.path)
            elif item.is_file(follow_symlinks=False):
                yield item.path


def is_image(path: Path | str) -> bool:
    return os.path.splitext(str(path))[1].lower() in IMAGE_SUFFIXES


def stem(path: Path | str) -> str:
    return os.path.splitext(os.path.basename(str(path)))[0]


def find_one(candidates: Iterable[tuple[Path, str]], *names: str) -> tuple[Path, str] | None:
    """The first input whose file name matches one of `names` (case-insensitive)."""
    wanted = {n.lower() for n in names}
    return next(((p, s) for p, s in candidates if p.name.lower() in wanted), None)


def manifest_frame(columns: Any):
    """A manifest DataFrame with every standard column, in order, with stable dtypes."""
    import pandas as pd  # heavy: imported on first use

    frame = columns if isinstance(columns, pd.DataFrame) else pd.DataFrame(columns)
    for column in MANIFEST_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    extra = [c for c in frame.columns if c not in MANIFEST_COLUMNS]
    frame = frame[MANIFEST_COLUMNS + extra]
    for column in frame.columns:
        if column in INTEGER_COLUMNS:
            frame[column] = pd.array(frame[column], dtype="Int64")
        elif column in FLOAT_COLUMNS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        elif frame[column].dtype == object or str(frame[column].dtype).startswith(("str", "string")):
            frame[column] = frame[column].astype("string")
    if frame["sample_id"].isna().any() or frame["sample_id"].duplicated().any():
        duplicate = frame.loc[frame["sample_id"].duplicated(), "sample_id"].head(1).tolist()
        raise StandardizeError(f"the standardizer produced {'duplicate' if duplicate else 'missing'} "
                               f"sample ids ({duplicate[:1]}).", "This is a bug; please report it.")
    return frame.reset_index(drop=True)


def write_manifest(frame, path: Path) -> None:
    """Write the manifest as Parquet, atomically (a killed writer's temporary is reclaimed next time)."""
    temporaries.reclaim(path.parent)
    tmp = temporaries.beside(path)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_png(array, path: Path) -> Path:
    """Write a label mask losslessly: 8-bit PNG, or 16-bit PNG for ids above 255."""
    import numpy as np  # heavy: imported on first use
    from PIL import Image  # heavy: imported on first use

    array = np.asarray(array)
    if array.size and (array.min() < 0 or array.max() > 65535):
        raise StandardizeError(f"mask values out of range for {path.name} ({array.min()}..{array.max()}).")
    data = array.astype(np.uint8 if not array.size or array.max() < 256 else np.uint16)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporaries.reclaim(path.parent)
    tmp = temporaries.beside(path)
    try:
        Image.fromarray(data).save(tmp, format="PNG")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def split_from_path(parts: Iterable[str], default: str = "train") -> str:
    """'test' when a folder or file name says test/testing, else `default`."""
    lowered = [p.lower() for p in parts]
    return "test" if any(p.startswith("test") or p.endswith("test") or "testdata" in p or "test_" in p
                         or " test" in p for p in lowered) else default


def part_path(ctx: "Context", path: Path) -> tuple[str, ...]:
    """The path's parts below the dataset folder (raw/... or extracted/...), for name-based rules."""
    return tuple(Path(ctx.rel(path)).parts[1:])
