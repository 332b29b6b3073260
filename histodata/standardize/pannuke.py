"""`pannuke`: PanNuke fold arrays, kept as arrays (fold zips extracted once into extracted/).

Each row points into `images.npy` and `masks.npy` of its fold through `index`; `tissue` is the
tissue type. Mask channels 0-4 hold instance ids per class, channel 5 is background.
"""
from __future__ import annotations

import re
from collections import defaultdict

from ..errors import StandardizeError
from .base import Context, Result, part_path
from .spec import INPUT_OPTIONS, Standardizer

CHANNELS = {0: "neoplastic", 1: "inflammatory", 2: "connective", 3: "dead", 4: "epithelial", 5: "background"}
_FOLD = re.compile(r"fold\s*_?(\d+)", re.I)


def _fold_of(parts: tuple[str, ...]) -> str | None:
    for part in reversed(parts):
        match = _FOLD.search(part)
        if match:
            return f"fold{int(match.group(1))}"
    return None


def standardize(ctx: Context) -> Result:
    import numpy as np  # heavy: imported when a dataset is standardized, not with the catalog

    folds: dict[str, dict] = defaultdict(dict)
    for path, source in ctx.inputs():
        if path.suffix.lower() == ".npy" and path.stem.lower() in ("images", "masks", "types"):
            fold = _fold_of(part_path(ctx, path)[:-1])
            if fold:
                folds[fold][path.stem.lower()] = (path, source)
    columns: dict[str, list] = defaultdict(list)
    for fold in sorted(folds):
        if "images" not in folds[fold]:
            continue
        images, source = folds[fold]["images"]
        array = np.load(images, mmap_mode="r")
        count, height, width = array.shape[:3]
        types = np.load(folds[fold]["types"][0]).astype(str).tolist() if "types" in folds[fold] else [None] * count
        masks = folds[fold].get("masks")
        columns["sample_id"] += [f"{fold}/{i:05d}" for i in range(count)]
        columns["split"] += [fold] * count
        columns["image"] += [ctx.rel(images)] * count
        columns["mask"] += [ctx.rel(masks[0]) if masks else None] * count
        columns["index"] += list(range(count))
        columns["tissue"] += types
        columns["source"] += [source] * count
        columns["width"] += [int(width)] * count
        columns["height"] += [int(height)] * count
    if not columns:
        raise StandardizeError(f"no PanNuke fold arrays (Fold N/images/foldN/images.npy) for {ctx.paths.id}.")
    return Result(dict(columns), {"mask_channels": {str(k): v for k, v in CHANNELS.items()},
                                  "mask_layout": "(256, 256, 6): channels 0-4 instance ids per class, 5 background"})


STANDARDIZER = Standardizer(
    name="pannuke",
    summary="fold arrays kept as arrays; images, instance masks per channel, tissue types",
    options=INPUT_OPTIONS,
    run=standardize,
    partial=False,   # waits for every file: a fold's rows are spread over its images, masks, types
)
