"""Optional Hugging Face `datasets` adapter: `histodata.load(ID).to_hf()`.

    splits = histodata.load("nct-crc-he-100k").to_hf()      # DatasetDict: one Dataset per split
    splits["train"].features["label"].names                    # the dataset's classes

Images and masks become `datasets.Image` features that hold the files' paths (no image bytes are
copied; they are decoded on access), labels a `ClassLabel` over `dataset.classes` (-1 for a sample
without a label), and every other manifest column is kept. Install with
`pip install "histodata-pathology[hf]"`.
"""
from __future__ import annotations

from .errors import StandardizeError
from .standardize.optional import require

# Files Pillow decodes as a whole (whole-slide images are kept as path strings).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp")


def _image_files(column) -> bool:
    present = column.dropna()
    return len(present) > 0 and all(str(p).lower().endswith(IMAGE_SUFFIXES) for p in present)


def to_hf(dataset, split_column: str = "split"):
    """The manifest of a local `histodata.Dataset` as a `datasets.DatasetDict` (one per split), or
    a `datasets.Dataset` when the manifest has no splits."""
    hf = require("datasets", "hf")
    frame = dataset.manifest.copy()
    if "index" in frame and frame["index"].notna().any():
        raise StandardizeError(f"{dataset.id} keeps its images as rows of arrays ({frame['image'].iloc[0]}), "
                               "which datasets' Image feature cannot point at without copying them.",
                               "Use histodata.torch.ManifestDataset, or read rows with dataset.read_image(i).")
    slides = dataset.info.get("standardized", {}).get("standardizer") == "slides"
    image_columns = [c for c in ("image", "mask") if c in frame and not slides and _image_files(frame[c])]
    for column in ("image", "mask", "annotation"):
        if column in frame:
            frame[column] = [str(dataset.root / p) if isinstance(p, str) else None for p in frame[column]]
    features = hf.Features.from_arrow_schema(hf.Dataset.from_pandas(frame.head(0), preserve_index=False)
                                             .data.schema)
    for column in image_columns:
        features[column] = hf.Image()
    classes = list(dataset.classes) if dataset.class_map.get("labels") else []
    if classes and "label" in frame:
        index = {name: i for i, name in enumerate(classes)}
        frame["label"] = frame["label"].map(lambda v: index.get(v, -1) if isinstance(v, str) else -1).astype("int64")
        features["label"] = hf.ClassLabel(names=classes)
    if split_column not in frame or frame[split_column].isna().all():
        return hf.Dataset.from_pandas(frame, features=features, preserve_index=False)
    parts = {}
    for name in frame[split_column].dropna().unique():
        part = frame[frame[split_column] == name].reset_index(drop=True)
        parts[str(name)] = hf.Dataset.from_pandas(part, features=features, preserve_index=False)
    return hf.DatasetDict(parts)
