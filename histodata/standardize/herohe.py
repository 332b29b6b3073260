"""`herohe`: HEROHE MIRAX slides (`.mrxs` + same-name folder of `.dat` files), kept whole.

HER2 status comes from the ground-truth spreadsheet (`*.xlsx`; columns matched by name, case
ignored); case 325 is left out by default, as the organisers advise.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import StandardizeError
from .base import Context, Result, part_path, split_from_path
from .media import openslide_properties
from .optional import require
from .spec import INPUT_OPTIONS, Option, Standardizer

LABELS = ["negative", "positive"]
_POSITIVE = {"1", "positive", "pos", "her2+", "+", "true", "yes"}
_NEGATIVE = {"0", "negative", "neg", "her2-", "-", "false", "no"}


def _case_id(value) -> str:
    text = str(value).strip()
    text = re.sub(r"\.(mrxs|0)$", "", text, flags=re.I)
    return text.lstrip("0") or text


def _column(columns, *words: str):
    return next((c for c in columns if any(w in str(c).lower() for w in words)), None)


def read_labels(path: Path) -> dict[str, str]:
    """case id -> 'positive' / 'negative' from the ground-truth spreadsheet."""
    import pandas as pd  # heavy: imported on first use

    require("openpyxl", "excel")
    frame = pd.read_excel(path)
    case = _column(frame.columns, "case", "image", "slide", "id", "name")
    status = _column([c for c in frame.columns if c != case], "her2", "status", "label", "class")
    if case is None or status is None:
        raise StandardizeError(f"{path.name}: no case/HER2 status columns (found {list(frame.columns)}).",
                               "Rename the columns or report the file layout.")
    labels = {}
    for raw_case, raw_status in zip(frame[case], frame[status]):
        value = str(raw_status).strip().lower()
        value = value[:-2] if value.endswith(".0") else value
        if value in _POSITIVE or value in _NEGATIVE:
            labels[_case_id(raw_case)] = "positive" if value in _POSITIVE else "negative"
    return labels


def standardize(ctx: Context) -> Result:
    inputs = ctx.inputs()
    sheets = [p for p, _ in inputs if p.suffix.lower() == ".xlsx"]
    labels = {}
    for sheet in sheets:
        labels.update(read_labels(sheet))
    excluded = {_case_id(c) for c in ctx.option("exclude")}
    slides = [(p, s) for p, s in inputs if p.suffix.lower() == ".mrxs"]
    if not slides:
        raise StandardizeError(f"no MIRAX slides (.mrxs) found for {ctx.paths.id} in {ctx.paths.raw}.",
                               f"Put each <case>.mrxs with its same-name folder of .dat files into a folder "
                               f"DIR and run `histodata fetch {ctx.paths.id} --from DIR`.")
    rows = []
    for path, source in ctx.track(slides, len(slides), "slides"):
        case = _case_id(path.stem)
        if case in excluded:
            continue
        image = ctx.place(path, ctx.paths.images / path.name)
        if path.with_suffix("").is_dir():
            ctx.place_tree(path.with_suffix(""), ctx.paths.images / path.stem)
        info = openslide_properties(image) or {}
        rows.append({"sample_id": path.stem, "split": split_from_path(part_path(ctx, path)[:-1]),
                     "image": ctx.rel(image), "label": labels.get(case), "slide_id": path.stem,
                     "patient_id": case, "source": source, **info})
    return Result(rows, {"labels": LABELS, "excluded_cases": sorted(excluded)})


STANDARDIZER = Standardizer(
    name="herohe",
    summary="MIRAX slides kept whole; HER2 labels from the ground-truth spreadsheet (case 325 excluded)",
    options={
        "exclude": Option("case ids left out (`[]` keeps every case)", default=(325,), kind="a list"),
        **INPUT_OPTIONS,
    },
    run=standardize,
    partial=True,   # works on a partial fetch: each MIRAX slide is a sample of its own
)
