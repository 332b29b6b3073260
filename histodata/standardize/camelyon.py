"""`camelyon`: CAMELYON16 and CAMELYON17 whole-slide images, kept whole (hard-linked).

ASAP XML lesion annotations become GeoJSON (tumour groups -> "Tumor", exclusion groups ->
"Exclusion"; the original group is kept as the `group` property); slide labels come from the
file names (CAMELYON16 train), `reference.csv` (CAMELYON16 test) and `stage_labels.csv`
(CAMELYON17, which also gives each patient's pN stage); CAMELYON17 centers from `center_N` folders.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..annotations import read_annotations, write_geojson
from ..errors import StandardizeError
from .base import Context, Result, part_path, split_from_path
from .media import slide_properties
from .spec import INPUT_OPTIONS, Option, Standardizer

TUMOR_GROUPS = ("_0", "_1", "Tumor", "tumor", "metastases", "Metastases")
EXCLUSION_GROUPS = ("_2", "Exclusion", "exclusion")
SLIDE_LABELS = ["normal", "tumor", "negative", "itc", "micro", "macro"]
PN_STAGES = ["pN0", "pN0(i+)", "pN1mi", "pN1", "pN2"]
_CENTER = re.compile(r"^center_?(\d+)$", re.I)
_PATIENT = re.compile(r"^(patient_\d+)", re.I)


def _csv_rows(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    return [row for row in csv.reader(io.StringIO(text)) if row and row[0].strip()]


def _labels(inputs: list[tuple[Path, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """slide stem -> label, patient -> pN stage, from reference.csv and stage_labels.csv."""
    slides, patients = {}, {}
    for path, _ in inputs:
        name = path.name.lower()
        if name == "stage_labels.csv" or name == "reference.csv":
            for row in _csv_rows(path):
                key, value = row[0].strip(), (row[1].strip() if len(row) > 1 else "")
                stem = Path(key).stem
                if key.lower().endswith(".zip") or (stem.lower().startswith("patient") and "node" not in stem):
                    patients[stem] = value
                elif value and key.lower() not in ("patient", "image", "slide"):
                    slides[stem] = value.lower()
    return slides, patients


def _group_class(group: str | None, tumor: list[str], exclusion: list[str]) -> str | None:
    if group in tumor:
        return "Tumor"
    if group in exclusion:
        return "Exclusion"
    return group


def _convert_annotation(ctx: Context, xml: Path, tumor: list[str], exclusion: list[str]) -> str:
    features = read_annotations(xml, format="asap")
    for feature in features:
        props = feature["properties"]
        group = (props.get("classification") or {}).get("name")
        props["group"] = group
        name = _group_class(group, tumor, exclusion)
        if name:
            props["classification"] = {**props.get("classification", {}), "name": name}
    target = ctx.paths.annotations / f"{xml.stem}.geojson"
    write_geojson(features, target)
    return ctx.rel(target)


def _slide_label(stem: str, labels: dict[str, str]) -> str | None:
    if stem in labels:
        return labels[stem]
    for prefix in ("normal", "tumor"):
        if stem.lower().startswith(prefix + "_"):
            return prefix
    return None


def standardize(ctx: Context) -> Result:
    inputs = ctx.inputs()
    tumor = list(ctx.option("tumor_groups"))
    exclusion = list(ctx.option("exclusion_groups"))
    labels, stages = _labels(inputs)
    xmls = {p.stem: p for p, _ in inputs if p.suffix.lower() == ".xml"}
    slides = [(p, s) for p, s in inputs if p.suffix.lower() in (".tif", ".tiff")
              and not p.stem.lower().endswith("_mask") and "mask" not in {q.lower() for q in p.parts[-2:-1]}]
    if not slides:
        raise StandardizeError(f"no CAMELYON slides (.tif) found for {ctx.paths.id}.",
                               "Fetch at least one slide (e.g. --files 'CAMELYON16/images/tumor_001.tif').")
    def slide_row(item: tuple) -> dict:      # one slide: a task of its own on a cluster (Context.map)
        path, source = item
        parts = part_path(ctx, path)
        image = ctx.place(path, ctx.paths.images / path.name)
        patient = _PATIENT.match(path.stem)
        center = next((p for p in parts if _CENTER.match(p)), None)
        row = {"sample_id": path.stem, "split": split_from_path(parts[:-1] + (path.stem,)),
               "image": ctx.rel(image), "label": _slide_label(path.stem, labels),
               "annotation": _convert_annotation(ctx, xmls[path.stem], tumor, exclusion)
               if path.stem in xmls else None,
               "slide_id": path.stem, "patient_id": patient.group(1) if patient else None,
               "patient_stage": stages.get(patient.group(1)) if patient else None,
               "source": source, "center": center, **slide_properties(path)}
        return row

    rows = ctx.map(slide_row, slides, "slides")
    present = {r["label"] for r in rows if r["label"]}
    class_map = {"labels": [l for l in SLIDE_LABELS if l in present] + sorted(present - set(SLIDE_LABELS)),
                 "patient_stages": PN_STAGES,
                 "annotation_classes": {"Tumor": tumor, "Exclusion": exclusion}}
    return Result(rows, class_map)


STANDARDIZER = Standardizer(
    name="camelyon",
    summary="WSIs are hard-linked whole into `images/` (no copy, no re-encoding); ASAP XML lesion "
            "annotations become GeoJSON in `annotations/`; slide labels, CAMELYON17 pN stages and centers go "
            "into the manifest",
    options={
        "tumor_groups": Option("ASAP annotation groups classified `Tumor`", default=TUMOR_GROUPS, kind="a list"),
        "exclusion_groups": Option("ASAP annotation groups classified `Exclusion`", default=EXCLUSION_GROUPS,
                                   kind="a list"),
        **INPUT_OPTIONS,
    },
    run=standardize,
    partial=True,   # works on a partial fetch: each slide is a sample of its own, with its annotation
)
