"""`pcam`: PatchCamelyon HDF5 arrays, kept as arrays (gunzipped once into extracted/).

The manifest points into them: `image` is the x file, `image_key` its dataset ("x") and `index`
the row; labels come from the y file (1 = tumour in the central 32x32 px); slide ids from the
meta CSV's `wsi` column when present.
"""
from __future__ import annotations

import re

from ..errors import StandardizeError
from .base import Context, Result
from .optional import require
from .spec import INPUT_OPTIONS, Option, Standardizer

_FILE = re.compile(r"camelyonpatch_level_2_split_(train|valid|test)_(x|y|meta)\.(h5|csv)$", re.I)
LABELS = ["normal", "tumor"]


def _read_meta(path):
    import pandas as pd  # heavy: imported on first use

    frame = pd.read_csv(path)
    return frame["wsi"].astype(str).tolist() if "wsi" in frame.columns else None


def standardize(ctx: Context) -> Result:
    import numpy as np  # heavy: imported when a dataset is standardized, not with the catalog

    h5py = require("h5py", "hdf5")
    files: dict[tuple[str, str], tuple] = {}
    for path, source in ctx.inputs():
        match = _FILE.search(path.name)
        if match:
            files[(match.group(1).lower(), match.group(2).lower())] = (path, source)
    names = ctx.option("splits") or {}
    columns: dict[str, list] = {k: [] for k in ("sample_id", "split", "image", "image_key", "index", "label",
                                                "slide_id", "source")}
    for split in ("train", "valid", "test"):
        if (split, "x") not in files:
            continue
        x_path, source = files[(split, "x")]
        with h5py.File(x_path, "r") as handle:
            count, height, width = handle["x"].shape[:3]
        labels = [None] * count
        if (split, "y") in files:
            with h5py.File(files[(split, "y")][0], "r") as handle:
                values = np.asarray(handle["y"]).reshape(-1)
            labels = np.where(values > 0, "tumor", "normal").tolist()
        slides = _read_meta(files[(split, "meta")][0]) if (split, "meta") in files else None
        columns["sample_id"] += [f"{split}/{i:06d}" for i in range(count)]
        columns["split"] += [names.get(split, split)] * count
        columns["image"] += [ctx.rel(x_path)] * count
        columns["image_key"] += ["x"] * count
        columns["index"] += list(range(count))
        columns["label"] += labels
        columns["slide_id"] += slides if slides and len(slides) == count else [None] * count
        columns["source"] += [source] * count
    if not columns["sample_id"]:
        raise StandardizeError(f"no PCam x files (camelyonpatch_level_2_split_*_x.h5[.gz]) for {ctx.paths.id}.")
    columns["width"], columns["height"] = [int(width)] * len(columns["index"]), [int(height)] * len(columns["index"])
    return Result(columns, {"labels": LABELS, "label_meaning": "tumor: the central 32x32 px contain tumour"})


STANDARDIZER = Standardizer(
    name="pcam",
    summary="HDF5 arrays kept as arrays; the manifest points into them (file + index)",
    options={
        "splits": Option("`{train|valid|test: <split name>}` to rename the published splits",
                         default_text="the published names", kind="a mapping"),
        **INPUT_OPTIONS,
    },
    run=standardize,
    partial=False,   # waits for every file: a split's rows are spread over its x, y, meta files
)
