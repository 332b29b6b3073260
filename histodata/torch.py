"""Optional PyTorch adapter: a standardized dataset's manifest as a map-style `Dataset`.

    from histodata.torch import ManifestDataset
    train = ManifestDataset("nct-crc-he-100k", split="train")
    loader = torch.utils.data.DataLoader(train, batch_size=64, num_workers=4)

Works with any DataLoader (it has `__len__` and `__getitem__`); importable without torch
(install it with `pip install "histodata-pathology[torch]"`). Samples are (image, target): the image as a
uint8 CHW tensor (HWC numpy array with `as_tensor=False`), the target the label's index in
`dataset.classes` (`target="label"`), the mask (`target="mask"`) or None.

`transform`, when given, receives the image as a uint8 HWC numpy array (RGB; alpha dropped) and
its return value is the sample's image as it is (no tensor conversion follows: return a tensor,
e.g. with torchvision's `ToTensor()`, which also scales to 0..1 floats). A `split` that the
manifest does not have is an error naming the splits it has. Whole-slide datasets are refused:
their rows are slides, not patches (read regions with `Dataset.read_region`).
"""
from __future__ import annotations

from typing import Any, Callable

from .errors import HistodataError
from .local import Dataset, _missing, load
from .standardize.optional import require
from .wsi import is_whole_slide


class ManifestDataset:
    """Rows of a manifest (optionally one split) read on demand; picklable for worker processes."""

    def __init__(self, dataset: str | Dataset, split: str | None = None, *, target: str | None = "label",
                 transform: Callable | None = None, as_tensor: bool = True, root=None):
        self.dataset = load(dataset, root) if isinstance(dataset, str) else dataset
        frame = self.dataset.manifest
        if split is not None:
            splits = sorted(str(s) for s in frame["split"].dropna().unique())
            if split not in splits:
                raise HistodataError(f"{self.dataset.id} has no split {split!r}; its splits: "
                                     f"{', '.join(splits) or 'none (pass split=None for every row)'}.",
                                     "Pass one of them, or split=None for every row.")
        self.rows = frame[frame["split"] == split].reset_index(drop=True) if split is not None else frame
        if len(self.rows) and _missing(self.rows.iloc[0].get("index")) \
                and is_whole_slide(self.dataset.path(self.rows.iloc[0]["image"])):
            raise HistodataError(f"{self.dataset.id} lists whole-slide images: one row is a slide, not a "
                                 "patch a model can take whole.",
                                 "Cut patches with `Dataset.read_region(row, location, level, size)` (or "
                                 "`Dataset.slide(row)`) in your own Dataset class.")
        self.target, self.transform, self.as_tensor = target, transform, as_tensor
        self.class_index = {name: i for i, name in enumerate(self.dataset.classes)}
        if as_tensor:
            _torch()

    def __len__(self) -> int:
        return len(self.rows)

    def _target(self, row) -> Any:
        if self.target == "label":
            return None if _missing(row["label"]) else self.class_index.get(row["label"], -1)
        if self.target == "mask":
            mask = self.dataset.read_mask(row)
            return _torch().from_numpy(mask.copy()) if self.as_tensor and mask is not None else mask
        return None

    def __getitem__(self, index: int):
        row = self.rows.iloc[index]
        image = self.dataset.read_image(row)
        if image.ndim == 3 and image.shape[-1] > 3:
            image = image[..., :3]   # drop alpha (CoNSeP PNGs)
        if self.transform is not None:
            image = self.transform(image)
        elif self.as_tensor:
            image = _torch().from_numpy(image.copy()).permute(2, 0, 1) if image.ndim == 3 else \
                _torch().from_numpy(image.copy())
        return image, self._target(row)


def _torch():
    return require("torch", "torch")
