"""`lizard`: Lizard colon nuclei (20x): images, `.mat` labels (`inst_map`, `id`, `class`) and
`info.csv` (Filename, Source, Split 1-3). Classes map to instances through `id`, never position.
"""
from __future__ import annotations

from ..errors import StandardizeError
from .base import Context, Result, is_image, part_path, write_png
from .nuclei_mat import load_mat, type_map_from_instances
from .spec import INPUT_OPTIONS, Standardizer

CLASSES = {0: "background", 1: "neutrophil", 2: "epithelial", 3: "lymphocyte", 4: "plasma", 5: "eosinophil",
           6: "connective"}


def _info(inputs) -> dict[str, dict]:
    import pandas as pd  # heavy: imported on first use

    path = next((p for p, _ in inputs if p.name.lower() == "info.csv"), None)
    if path is None:
        return {}
    frame = pd.read_csv(path)
    return {str(r["Filename"]): r for r in frame.to_dict("records") if "Filename" in r}


def standardize(ctx: Context) -> Result:
    import numpy as np  # heavy: imported when a dataset is standardized, not with the catalog

    inputs = ctx.inputs()
    info = _info(inputs)
    labels = {p.stem: p for p, _ in inputs if p.suffix.lower() == ".mat"}
    images = [(p, s) for p, s in inputs if is_image(p) and p.stem in labels
              and "overlay" not in {q.lower() for q in part_path(ctx, p)}]
    if not images:
        raise StandardizeError(f"no Lizard image/label pairs found for {ctx.paths.id}.")
    rows = []
    for path, source in ctx.track(images, len(images), "images"):
        mat = load_mat(labels[path.stem])
        inst = np.asarray(mat["inst_map"])
        types = type_map_from_instances(inst, mat.get("id", np.zeros(0)), mat.get("class", np.zeros(0)))
        meta = info.get(path.stem, {})
        split = f"fold{int(meta['Split'])}" if "Split" in meta else None
        image = ctx.place(path, ctx.paths.images / path.name)
        mask = write_png(types, ctx.paths.masks / f"{path.stem}.png")
        instances = write_png(inst, ctx.paths.masks / f"{path.stem}_instances.png")
        rows.append({"sample_id": path.stem, "split": split, "image": ctx.rel(image), "mask": ctx.rel(mask),
                     "instance_mask": ctx.rel(instances), "source": source, "cohort": meta.get("Source"),
                     "width": int(inst.shape[1]), "height": int(inst.shape[0]),
                     "nuclei": int(np.asarray(mat.get("id", [])).size)})
    return Result(rows, {"mask_values": {str(k): v for k, v in CLASSES.items()}, "magnification": "20x"})


STANDARDIZER = Standardizer(
    name="lizard",
    summary="`.mat` instance maps and classes become masks",
    options=INPUT_OPTIONS,
    run=standardize,
    partial=True,   # works on a partial fetch: each image and its label file are a sample of their own
)
