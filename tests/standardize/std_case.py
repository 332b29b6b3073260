"""A standardizer test declared as data, like TFDS's `DatasetBuilderTestCase`: the raw files (the
input layout), the entry's `standardize` block, and what the manifest must be.

    StandardizerCase(
        "folder-per-class", dataset="tiles", options={"splits": {"train": "train"}},
        files={"tiles.zip": zipped({"train/ADI/1.png": png((32, 32)), "train/TUM/1.png": png((32, 32))})},
        samples=2, splits={"train": 2}, classes=["ADI", "TUM"],
        rows={"train/ADI/1": {"label": "ADI", "width": 32}},
    ).run()

`run()` writes `raw/`, validates the entry with the registry model (so the options must be ones
the standardizer declares), standardizes, checks every declared expectation and returns an
`Outcome` (report, paths, loaded dataset, manifest indexed by sample id) for the checks a
declaration cannot say. A file's content is bytes, text, or a writer `f(path)` (`png`, `tiff`,
`npy`, `mat`, `zipped`, ...).
"""
from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Union

import numpy as np
import pandas as pd
import pytest
from std_helpers import make_entry, save_png, zip_folder

import histodata
from histodata.layout import DatasetPaths, dataset_paths, read_record, write_record
from histodata.registry.models import Entry
from histodata.standardize import StandardizeReport, standardize_dataset

Content = Union[bytes, str, Callable[[Path], Any]]
PATH_COLUMNS = ("image", "mask", "annotation", "instance_mask")


# ----------------------------------------------------------------------------- file contents
def write_content(content: Content, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        content(path)
    return path


def write_files(files: Mapping[str, Content], folder: Path) -> None:
    for name, content in files.items():
        write_content(content, folder / name)


def gradient(width: int, height: int, channels: int = 3) -> np.ndarray:
    """Deterministic uint8 pixels of a given size (for cases where the pixels do not matter)."""
    y, x = np.mgrid[0:height, 0:width]
    planes = [(x * 7 + y * 3 + 40 * c) % 256 for c in range(channels)]
    return np.dstack(planes).astype(np.uint8) if channels > 1 else planes[0].astype(np.uint8)


def png(pixels: np.ndarray | tuple[int, int]) -> Callable[[Path], Path]:
    """A PNG of these pixels, or of a (width, height) gradient."""
    array = gradient(*pixels) if isinstance(pixels, tuple) else pixels
    return lambda path: save_png(array, path)


def tiff(pixels: np.ndarray, **options) -> Callable[[Path], Any]:
    import tifffile

    return lambda path: tifffile.imwrite(path, pixels, **options)


def npy(array: np.ndarray) -> Callable[[Path], Any]:
    return lambda path: np.save(path, array)


def mat(variables: dict) -> Callable[[Path], Any]:
    def write(path: Path) -> None:
        from scipy.io import savemat

        savemat(path, variables)

    return write


def zipped(members: Mapping[str, Content]) -> Callable[[Path], Path]:
    """A zip archive holding `members` (name -> content, as for raw files)."""
    def write(path: Path) -> Path:
        with tempfile.TemporaryDirectory() as folder:
            write_files(members, Path(folder))
            return zip_folder(Path(folder), path)

    return write


# ----------------------------------------------------------------------------- the case
@dataclass
class Outcome:
    report: StandardizeReport | None
    paths: DatasetPaths
    ds: Any = None
    manifest: pd.DataFrame | None = None       # indexed by sample_id

    @property
    def record(self) -> dict:
        return read_record(self.paths)


@dataclass
class StandardizerCase:
    """What goes in (raw files, the standardize block) and what must come out (the manifest)."""

    standardizer: str
    files: Mapping[str, Content] = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    dataset: str = "case"
    dataset_record: dict | None = None          # a record already on disk (what a fetch wrote)
    validate_entry: bool = True                 # through the registry model, as a fetch does
    # expectations (None: not checked)
    changed: bool | None = True
    samples: int | None = None
    splits: dict | None = None                  # the report's split counts
    labels: dict | None = None                  # label counts in the record
    classes: list | None = None                 # ds.classes
    class_map: dict | None = None               # items the class map must have
    rows: dict[str, dict] | None = None         # sample_id -> column values (None: empty)
    columns: dict[str, list] | None = None      # column -> every value in manifest order
    column_names: set | None = None             # columns the manifest must have
    record: dict | None = None                  # items of the record's `standardized` part
    error: tuple[type, str] | None = None       # (exception type, regex) the run must raise

    def entry(self):
        entry = make_entry(self.dataset, self.standardizer, **self.options)
        return Entry.model_validate(entry) if self.validate_entry else entry

    def write(self) -> DatasetPaths:
        paths = dataset_paths(self.dataset)
        paths.raw.mkdir(parents=True, exist_ok=True)
        write_files(self.files, paths.raw)
        if self.dataset_record is not None:
            write_record(paths, self.dataset_record)
        return paths

    def run(self, write: bool = True, quiet: bool | None = True) -> Outcome:
        paths = self.write() if write else dataset_paths(self.dataset)
        if self.error:
            kind, pattern = self.error
            with pytest.raises(kind, match=pattern):
                standardize_dataset(self.entry(), paths, quiet=quiet)
            return Outcome(None, paths)
        report = standardize_dataset(self.entry(), paths, quiet=quiet)
        ds = histodata.load(self.dataset)
        outcome = Outcome(report, paths, ds, ds.manifest.set_index("sample_id"))
        self.check(outcome)
        return outcome

    def again(self, **changes) -> StandardizerCase:
        """The same case with other options or expectations (run it with `write=False`)."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------------- checks
    def check(self, outcome: Outcome) -> None:
        report, ds, df = outcome.report, outcome.ds, outcome.manifest
        part = outcome.record["standardized"]
        if self.changed is not None:
            assert report.changed == self.changed
        if self.samples is not None:
            assert report.samples == self.samples == len(df)
        if self.splits is not None:
            assert report.splits == self.splits
        if self.labels is not None:
            assert part["labels"] == self.labels
        if self.classes is not None:
            assert ds.classes == self.classes
        for key, value in (self.class_map or {}).items():
            assert key in ds.class_map and ds.class_map[key] == value, key
        for key, value in (self.record or {}).items():
            assert key in part and part[key] == value, key
        if self.column_names is not None:
            assert set(ds.manifest.columns) >= set(self.column_names)
        for column, values in (self.columns or {}).items():
            assert column in ds.manifest.columns and ds.manifest[column].tolist() == values, column
        for sample_id, expected in (self.rows or {}).items():
            assert sample_id in df.index, sample_id
            row = df.loc[sample_id]
            for column, value in expected.items():
                assert column in row.index, (sample_id, column)
                if value is None:
                    assert pd.isna(row[column]), (sample_id, column, row[column])
                else:
                    assert row[column] == value, (sample_id, column, row[column], value)
        for column in PATH_COLUMNS:   # every path the manifest names is on disk
            if column in df.columns:
                for path in df[column].dropna().unique():
                    assert (outcome.paths.base / path).exists(), path
