"""Image facts read from headers only: dimensions, microns per pixel, objective magnification."""
from __future__ import annotations

import re
from pathlib import Path

TIFF_SUFFIXES = {".tif", ".tiff", ".svs", ".ndpi", ".scn", ".bif"}
_APERIO_MPP = re.compile(r"MPP\s*=\s*([0-9.]+)")
_APERIO_MAG = re.compile(r"AppMag\s*=\s*([0-9.]+)")


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file header, or None when it cannot be read."""
    if path.suffix.lower() in TIFF_SUFFIXES:
        info = tiff_properties(path)
        return (info["width"], info["height"]) if info else None
    from PIL import Image, UnidentifiedImageError  # heavy: imported on first use

    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None


def _tiff_mpp(page) -> float | None:
    """Microns per pixel from the TIFF resolution tags (centimetre or inch units)."""
    tags = page.tags
    if "XResolution" not in tags or "ResolutionUnit" not in tags:
        return None
    numerator, denominator = tags["XResolution"].value
    unit = int(tags["ResolutionUnit"].value)
    if not numerator or not denominator or unit not in (2, 3):
        return None
    per_unit = numerator / denominator
    microns = 25400.0 if unit == 2 else 10000.0
    return microns / per_unit


def tiff_properties(path: Path) -> dict | None:
    """width, height, mpp and magnification of a TIFF-family slide (level 0), from its tags."""
    import tifffile  # heavy: imported on first use

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            info = {"width": int(page.imagewidth), "height": int(page.imagelength), "mpp": None,
                    "magnification": None}
            description = page.description or ""
            if "Aperio" in description:
                mpp, mag = _APERIO_MPP.search(description), _APERIO_MAG.search(description)
                info["mpp"] = float(mpp.group(1)) if mpp else None
                info["magnification"] = float(mag.group(1)) if mag else None
            if info["mpp"] is None:
                info["mpp"] = _tiff_mpp(page)
            return info
    except (OSError, ValueError, IndexError, KeyError, tifffile.TiffFileError):
        return None


def openslide_properties(path: Path) -> dict | None:
    """width, height, mpp and magnification through OpenSlide (MIRAX), if installed and readable."""
    try:
        import openslide  # heavy: imported on first use
    except ImportError:
        return None
    try:
        with openslide.OpenSlide(str(path)) as slide:
            props = slide.properties
            width, height = slide.dimensions
            mpp = props.get(openslide.PROPERTY_NAME_MPP_X)
            mag = props.get(openslide.PROPERTY_NAME_OBJECTIVE_POWER)
            return {"width": width, "height": height, "mpp": float(mpp) if mpp else None,
                    "magnification": float(mag) if mag else None}
    except (openslide.OpenSlideError, OSError, ValueError):
        return None


def slide_properties(path: Path) -> dict:
    """What can be read of a whole-slide image; empty values when nothing can."""
    info = tiff_properties(path) if path.suffix.lower() in TIFF_SUFFIXES else None
    if info is None:
        info = openslide_properties(path)
    return info or {"width": None, "height": None, "mpp": None, "magnification": None}
