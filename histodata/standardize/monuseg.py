"""`monuseg`: MoNuSeg tissue images with Aperio XML nuclei outlines.

Each XML becomes GeoJSON (one feature per nucleus, class "Nucleus") and an instance mask (later
regions win where nuclei overlap) plus a binary mask (1 = nucleus).
"""
from __future__ import annotations

from ..annotations import read_annotations, write_geojson
from ..annotations.raster import instance_mask
from ..errors import StandardizeError
from .base import Context, Result, is_image, part_path, split_from_path, write_png
from .media import image_size
from .spec import INPUT_OPTIONS, Standardizer

NUCLEUS = "Nucleus"


def standardize(ctx: Context) -> Result:
    inputs = ctx.inputs()
    xmls = {p.stem: p for p, _ in inputs if p.suffix.lower() == ".xml"}
    images = [(p, s) for p, s in inputs if is_image(p) and p.stem in xmls]
    if not images:
        raise StandardizeError(f"no MoNuSeg image/XML pairs found for {ctx.paths.id}.")
    rows = []
    for path, source in ctx.track(images, len(images), "images"):
        split = split_from_path(part_path(ctx, path)[:-1])
        image = ctx.place(path, ctx.paths.images / split / path.name)
        features = read_annotations(xmls[path.stem], format="aperio")
        for feature in features:
            feature["properties"].setdefault("classification", {"name": NUCLEUS})
        annotation = write_geojson(features, ctx.paths.annotations / split / f"{path.stem}.geojson")
        width, height = image_size(path) or (None, None)
        if width is None:
            raise StandardizeError(f"cannot read the size of {path.name}; is the image complete?")
        instances = instance_mask(features, (height, width))
        instances_path = write_png(instances, ctx.paths.masks / split / f"{path.stem}_instances.png")
        mask_path = write_png(instances > 0, ctx.paths.masks / split / f"{path.stem}.png")
        rows.append({"sample_id": f"{split}/{path.stem}", "split": split, "image": ctx.rel(image),
                     "mask": ctx.rel(mask_path), "instance_mask": ctx.rel(instances_path),
                     "annotation": ctx.rel(annotation), "slide_id": path.stem, "patient_id": path.stem[:12],
                     "source": source, "width": width, "height": height, "nuclei": int(instances.max())})
    return Result(rows, {"mask_values": {"0": "background", "1": "nucleus"},
                         "instance_mask": "0 background, 1..N nuclei in XML order"})


STANDARDIZER = Standardizer(
    name="monuseg",
    summary="Aperio XML nuclei become GeoJSON and instance masks",
    options=INPUT_OPTIONS,
    run=standardize,
    partial=True,   # works on a partial fetch: each image and its XML are a sample of their own
)
