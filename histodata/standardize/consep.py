"""`consep`: CoNSeP {Train,Test}/Images/*.png with Labels/*.mat (`inst_map`, `type_map`).

The type map becomes `masks/<split>/<name>.png` (classes 0..7) and the instance map
`masks/<split>/<name>_instances.png`; images are hard-linked (an alpha channel, when present, is
left in the file: readers take the first 3 channels).
"""
from __future__ import annotations

from ..errors import StandardizeError
from .base import Context, Result, is_image, part_path, split_from_path, write_png
from .nuclei_mat import load_mat
from .spec import INPUT_OPTIONS, Standardizer

CLASSES = {0: "background", 1: "other", 2: "inflammatory", 3: "healthy epithelial",
           4: "dysplastic/malignant epithelial", 5: "fibroblast", 6: "muscle", 7: "endothelial"}
HOVERNET_MERGE = {"3 epithelial": [3, 4], "4 spindle-shaped": [5, 6, 7]}


def standardize(ctx: Context) -> Result:
    import numpy as np  # heavy: imported when a dataset is standardized, not with the catalog

    inputs = ctx.inputs()
    labels = {(split_from_path(part_path(ctx, p)[:-1]), p.stem): p for p, _ in inputs if p.suffix.lower() == ".mat"}
    images = [(p, s) for p, s in inputs if is_image(p) and "overlay" not in {q.lower() for q in part_path(ctx, p)}]
    rows = []
    for path, source in ctx.track(images, len(images), "images"):
        split = split_from_path(part_path(ctx, path)[:-1])
        label = labels.get((split, path.stem))
        if label is None:
            continue
        mat = load_mat(label)
        if "inst_map" not in mat:
            raise StandardizeError(f"{label.name} has no inst_map.")
        inst = np.asarray(mat["inst_map"])
        image = ctx.place(path, ctx.paths.images / split / path.name)
        instances = write_png(inst, ctx.paths.masks / split / f"{path.stem}_instances.png")
        mask = write_png(mat["type_map"], ctx.paths.masks / split / f"{path.stem}.png") if "type_map" in mat else None
        rows.append({"sample_id": f"{split}/{path.stem}", "split": split, "image": ctx.rel(image),
                     "mask": ctx.rel(mask) if mask else None, "instance_mask": ctx.rel(instances),
                     "source": source, "width": int(inst.shape[1]), "height": int(inst.shape[0]),
                     "nuclei": int(len(np.unique(inst)) - (1 if (inst == 0).any() else 0))})
    if not rows:
        raise StandardizeError(f"no CoNSeP image/label pairs (Images/*.png + Labels/*.mat) for {ctx.paths.id}.")
    return Result(rows, {"mask_values": {str(k): v for k, v in CLASSES.items()}, "hovernet_merge": HOVERNET_MERGE})


STANDARDIZER = Standardizer(
    name="consep",
    summary="`.mat` instance and type maps become masks",
    options=INPUT_OPTIONS,
    run=standardize,
    partial=True,   # works on a partial fetch: each image and its label file are a sample of their own
)
