"""`bcss`: Breast Cancer Semantic Segmentation ROIs: RGB images and same-name label masks.

Mask values are the ground-truth codes of `gtruth_codes.tsv` (read from the raw files when
present, else the published table); 0 means outside the ROI (ignore). Slide and patient ids come
from the TCGA file names; mpp and the ROI's level-0 offset from the name where it says so.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..errors import StandardizeError
from .base import Context, Result, is_image, part_path
from .media import image_size
from .spec import INPUT_OPTIONS, Option, Standardizer

GT_CODES = {0: "outside_roi", 1: "tumor", 2: "stroma", 3: "lymphocytic_infiltrate", 4: "necrosis_or_debris",
            5: "glandular_secretions", 6: "blood", 7: "exclude", 8: "metaplasia_NOS", 9: "fat",
            10: "plasma_cells", 11: "other_immune_infiltrate", 12: "mucoid_material",
            13: "normal_acinus_or_duct", 14: "lymphatics", 15: "undetermined", 16: "nerve", 17: "skin_adnexa",
            18: "blood_vessel", 19: "angioinvasion", 20: "dcis", 21: "other"}
_MPP = re.compile(r"MPP-([0-9.]+)", re.I)
_X = re.compile(r"(?:xmin|left)-?(\d+)", re.I)
_Y = re.compile(r"(?:ymin|top)-?(\d+)", re.I)


def read_codes(path: Path) -> dict[int, str]:
    """label -> GT_code rows of gtruth_codes.tsv as {code: label}."""
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter="\t")
    try:
        return {int(r["GT_code"]): r["label"].strip() for r in rows}
    except (KeyError, TypeError, ValueError) as err:
        raise StandardizeError(f"{path.name} is not a label/GT_code table ({err}).") from err


def _number(pattern: re.Pattern, text: str, kind=float):
    match = pattern.search(text)
    return kind(match.group(1)) if match else None


def standardize(ctx: Context) -> Result:
    inputs = ctx.inputs()
    codes_file = next((p for p, _ in inputs if p.name.lower() == "gtruth_codes.tsv"), None)
    codes = read_codes(codes_file) if codes_file else dict(GT_CODES)
    masks, images = {}, []
    for path, source in inputs:
        if not is_image(path):
            continue
        if any(p.lower().startswith("mask") for p in part_path(ctx, path)[:-1]):
            masks[path.stem] = path
        else:
            images.append((path, source))
    if not images:
        raise StandardizeError(f"no BCSS ROI images found for {ctx.paths.id}.")
    test_sites = {str(s) for s in ctx.option("test_institutions") or []}
    rows = []
    for path, source in ctx.track(images, len(images), "ROIs"):
        slide = path.stem.split("_")[0]
        image = ctx.place(path, ctx.paths.images / path.name)
        mask = ctx.place(masks[path.stem], ctx.paths.masks / masks[path.stem].name) if path.stem in masks else None
        width, height = image_size(path) or (None, None)
        site = slide.split("-")[1] if slide.startswith("TCGA-") and slide.count("-") >= 2 else None
        rows.append({"sample_id": path.stem,
                     "split": ("test" if site in test_sites else "train") if test_sites else None,
                     "image": ctx.rel(image), "mask": ctx.rel(mask) if mask else None, "slide_id": slide,
                     "patient_id": slide[:12] if slide.startswith("TCGA-") else None, "source": source,
                     "width": width, "height": height, "mpp": _number(_MPP, path.stem),
                     "x": _number(_X, path.stem, int), "y": _number(_Y, path.stem, int), "institution": site})
    return Result(rows, {"mask_values": {str(k): v for k, v in sorted(codes.items())}, "ignore": [0]})


STANDARDIZER = Standardizer(
    name="bcss",
    summary="ROI images and their masks (22 ground-truth codes, 0 = outside the ROI) with TCGA slide and "
            "patient ids",
    options={
        "test_institutions": Option("TCGA site codes whose ROIs get split `test` (the others `train`)",
                                    default_text="none: BCSS has no split", kind="a list"),
        **INPUT_OPTIONS,
    },
    run=standardize,
    partial=True,   # works on a partial fetch: each ROI and its mask are a sample of their own
)
