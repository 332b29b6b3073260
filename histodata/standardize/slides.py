"""`slides`: one manifest row per whole-slide image, with what the source said about it.

A slide is a slide file under raw/ (`.svs`, `.tif`/`.tiff`, `.ndpi`, ...) or a folder of DICOM
instances (`.dcm`: one series, as the `idc` kind downloads it). Each row carries the slide's
per-file metadata from the dataset record (`project`, `case`, `sample_type`, ... for `gdc`;
`collection`, `patient`, ... for `idc`) as columns, `patient_id` from the case/patient/subject
field, and `slide_id`. It works on a partial fetch: only the slides present are listed, and a
later fetch of more slides lists them too. Slides are not copied: `image` points into raw/
(so `rm --raw-only` keeps them). Read them lazily with `Dataset.slide(row)`, `read_region` and
`thumbnail` (OpenSlide, which reads DICOM WSI from version 4, or tifffile for TIFFs).
"""
from __future__ import annotations

import os
from pathlib import Path

from .base import Context, Result
from .spec import Option, Standardizer

SLIDE_SUFFIXES = (".svs", ".tif", ".tiff", ".ndpi", ".mrxs", ".scn", ".vms", ".bif", ".czi", ".isyntax")
PATIENT_FIELDS = ("case", "patient", "subject")     # the per-file field naming the patient, by kind
SLIDE_FIELDS = ("series", "image_id")               # a kind's own slide id, else the file's stem
STANDARD = {"sample_id", "split", "image", "label", "mask", "annotation", "slide_id", "patient_id", "source",
            "width", "height", "mpp", "magnification", "center", "bytes", "files"}


def slides(ctx: Context) -> list[tuple[str, list[Path]]]:
    """(raw name of the slide, its files): slide files, and folders of `.dcm` instances."""
    suffixes = tuple(s.lower() for s in ctx.option("suffixes"))
    found, dicom = [], {}
    for path in ctx.raw_files():
        lower = path.name.lower()
        if lower.endswith(".dcm"):
            dicom.setdefault(path.parent, []).append(path)
        elif lower.endswith(suffixes):
            found.append((ctx.raw_name(path), [path]))
    found += [(ctx.raw_name(folder), sorted(files)) for folder, files in dicom.items()]
    return sorted(found)


def metadata_of(ctx: Context, files: list[Path]) -> dict[str, str]:
    """The recorded metadata of a slide (a DICOM series: of its first instance that has some)."""
    for path in files:
        info = ctx.record.files.get(ctx.raw_name(path))
        if info is not None and info.metadata:
            return dict(info.metadata)
    return {}


def slide_row(ctx: Context, name: str, files: list[Path]) -> dict:
    """The manifest row of one slide (a task of its own on a cluster: `Context.map`)."""
    fields = metadata_of(ctx, files)
    stem = Path(name).name if is_series(files) else Path(name).stem
    row = {"sample_id": name, "image": ctx.rel(ctx.paths.raw / name), "source": name,
           "slide_id": next((fields[f] for f in SLIDE_FIELDS if fields.get(f)), stem),
           "patient_id": next((fields[f] for f in PATIENT_FIELDS if fields.get(f)), None),
           "bytes": sum(os.path.getsize(p) for p in files), "files": len(files)}
    row.update({key: value for key, value in fields.items() if key not in STANDARD})
    return row


def is_series(files: list[Path]) -> bool:
    return len(files) > 1 or files[0].suffix.lower() == ".dcm"


def standardize(ctx: Context) -> Result:
    found = slides(ctx)
    rows = ctx.map(lambda item: slide_row(ctx, *item), found, "Listing slides")
    series = sum(is_series(files) for _, files in found)
    return Result(rows, {}, {"slides": len(rows), "dicom_series": series})


STANDARDIZER = Standardizer(
    name="slides",
    summary="one row per whole-slide image (a slide file, or a folder of DICOM instances) with the "
            "source's per-file metadata (project, case, ...) as columns; works on a partial fetch",
    options={
        "suffixes": Option("the file suffixes that are slides (a folder of `.dcm` files is always one)",
                           default=SLIDE_SUFFIXES, kind="a list"),
    },
    run=standardize,
    partial=True,
)
