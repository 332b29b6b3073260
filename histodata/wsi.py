"""Whole-slide images read lazily: only the tiles a region needs, never level 0 whole.

    slide = open_slide(path)                      # OpenSlide when it reads the file, else TiffSlide
    slide.read_region((x, y), level, (w, h))      # PIL RGBA image; (x, y) in level-0 pixels
    slide.get_thumbnail((512, 512))               # PIL RGB image from the smallest fitting level
    is_whole_slide(path)                          # a slide format, a DICOM series, a large or pyramidal TIFF

Both readers answer the same calls (OpenSlide's): `dimensions`, `level_count`,
`level_dimensions`, `level_downsamples`, `properties`, `read_region`, `get_thumbnail`, `close`.
`TiffSlide` (tifffile, installed with histodata) reads tiled TIFFs (pyramids in SubIFDs or in
following pages, as tifffile and most scanners write them); OpenSlide (`pip install
"histodata-pathology[slides]"`) also reads SVS, NDPI, MIRAX, DICOM WSI (OpenSlide 4) and more.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path

from .constants import install_command
from .errors import StandardizeError

TIFF_SUFFIXES = (".tif", ".tiff")
# formats that are whole-slide images whatever their size (TIFF: when pyramidal or large)
SLIDE_ONLY_SUFFIXES = (".svs", ".ndpi", ".mrxs", ".scn", ".vms", ".vmu", ".bif", ".czi", ".isyntax", ".dcm")
LARGE_PIXELS = 10_000 * 10_000   # a TIFF level 0 this large is read as a slide, not an image
WHOLE_LEVEL_PIXELS = 4096 * 4096  # a thumbnail reads a level this small whole, larger ones band by band
BACKENDS = ("auto", "openslide", "tifffile")


def slide_file(path: Path) -> Path:
    """The file to open: a DICOM series folder opens through any of its `.dcm` instances."""
    if path.is_dir():
        found = sorted(path.glob("*.dcm"))
        if not found:
            raise StandardizeError(f"{path} is a folder with no DICOM (.dcm) files.")
        return found[0]
    return path


@functools.lru_cache(maxsize=256)
def _tiff_is_slide(path: str, mtime_ns: int) -> bool:
    import tifffile  # heavy: imported on first use

    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            page = series.levels[0].keyframe
            return len(series.levels) > 1 or (page.is_tiled and page.imagewidth * page.imagelength
                                              >= LARGE_PIXELS)
    except (OSError, ValueError, IndexError, tifffile.TiffFileError):
        return False


def is_whole_slide(path: Path) -> bool:
    """A whole-slide image: a slide format, a folder (a DICOM series) or a pyramidal/large TIFF."""
    if path.is_dir():
        return True
    suffix = path.suffix.lower()
    if suffix in SLIDE_ONLY_SUFFIXES:
        return True
    if suffix in TIFF_SUFFIXES and path.is_file():
        return _tiff_is_slide(str(path), path.stat().st_mtime_ns)
    return False


def open_slide(path: Path, backend: str = "auto"):
    """An OpenSlide object when OpenSlide is installed and reads the file (`backend="auto"` or
    "openslide"), else (for a TIFF) a `TiffSlide`."""
    if backend not in BACKENDS:
        raise StandardizeError(f"unknown slide backend {backend!r}; use one of: {', '.join(BACKENDS)}.")
    target = slide_file(Path(path))
    is_tiff = target.suffix.lower() in TIFF_SUFFIXES
    if backend in ("auto", "openslide"):
        try:
            import openslide  # optional: the `slides` extra
        except ImportError:
            if backend == "openslide" or not is_tiff:
                raise StandardizeError(f"reading {target.name} needs OpenSlide, which is not installed.",
                                       f"Install it with: {install_command('slides')}") from None
        else:
            try:
                return openslide.OpenSlide(str(target))
            except openslide.OpenSlideError as err:
                if backend == "openslide" or not is_tiff:
                    raise StandardizeError(f"OpenSlide cannot read {target}: {err}.",
                                           "Check the file with `histodata verify ID`.") from None
    if not is_tiff:
        raise StandardizeError(f"{target.name} is not a TIFF; only OpenSlide reads it.",
                               f"Install it with: {install_command('slides')}")
    return TiffSlide(target)


class TiffSlide:
    """A tiled (pyramidal) TIFF read tile by tile with tifffile, answering OpenSlide's calls."""

    def __init__(self, path: Path):
        import tifffile  # heavy: imported on first use

        self.path = Path(path)
        self._tif = tifffile.TiffFile(str(self.path))
        try:
            series = self._tif.series[0]
            self._pages = [level.keyframe for level in series.levels]
        except (IndexError, AttributeError) as err:
            self._tif.close()
            raise StandardizeError(f"{self.path} has no image tifffile can read ({err}).") from None
        self.level_dimensions = tuple((p.imagewidth, p.imagelength) for p in self._pages)
        self.dimensions = self.level_dimensions[0]
        self.level_count = len(self._pages)
        self.level_downsamples = tuple(self.dimensions[0] / w for w, _ in self.level_dimensions)
        self.properties = self._properties()

    def __enter__(self) -> TiffSlide:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._tif.close()

    def __repr__(self) -> str:
        return f"TiffSlide({str(self.path)!r})"

    def _properties(self) -> dict:
        page = self._pages[0]
        props = {"tifffile.levels": str(self.level_count)}
        resolution, unit = page.tags.get("XResolution"), page.tags.get("ResolutionUnit")
        if resolution is not None and unit is not None and int(unit.value) in (2, 3):
            numerator, denominator = resolution.value
            per_unit = numerator / denominator if denominator else 0
            if per_unit > 0:
                props["openslide.mpp-x"] = str((25400 if int(unit.value) == 2 else 10000) / per_unit)
        return props

    def get_best_level_for_downsample(self, downsample: float) -> int:
        fitting = [i for i, d in enumerate(self.level_downsamples) if d <= downsample]
        return fitting[-1] if fitting else 0

    def read_region(self, location: tuple[int, int], level: int, size: tuple[int, int]):
        """A PIL RGBA image of `size` at `level`; `location` is level 0's top-left (as OpenSlide);
        pixels outside the slide are transparent."""
        from PIL import Image  # heavy: imported on first use

        if not 0 <= level < self.level_count:
            raise StandardizeError(f"level {level} does not exist; {self.path.name} has levels 0 to "
                                   f"{self.level_count - 1}.")
        scale = self.level_downsamples[level]
        x, y = int(location[0] / scale), int(location[1] / scale)
        rgb = self._read(level, x, y, int(size[0]), int(size[1]))
        return Image.fromarray(rgb, "RGBA")

    def _read(self, level: int, x: int, y: int, width: int, height: int):
        import numpy as np  # heavy: imported on first use

        page = self._pages[level]
        out = np.zeros((height, width, 4), dtype=np.uint8)
        full_w, full_h = self.level_dimensions[level]
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + width, full_w), min(y + height, full_h)
        if x1 <= x0 or y1 <= y0:
            return out
        if page.is_tiled:
            pixels = self._read_tiles(page, x0, y0, x1, y1)
        else:   # a strip-organised level: small ones are read whole
            pixels = page.asarray()[y0:y1, x0:x1]
        out[y0 - y:y1 - y, x0 - x:x1 - x, :3] = _as_rgb(pixels)
        out[y0 - y:y1 - y, x0 - x:x1 - x, 3] = 255
        return out

    def _read_tiles(self, page, x0: int, y0: int, x1: int, y1: int):
        import numpy as np  # heavy: imported on first use

        th, tw = page.tilelength, page.tilewidth
        across = math.ceil(page.imagewidth / tw)
        samples = page.samplesperpixel
        region = np.zeros((y1 - y0, x1 - x0, samples), dtype=page.dtype)
        handle = self._tif.filehandle
        for ty in range(y0 // th, (y1 - 1) // th + 1):
            for tx in range(x0 // tw, (x1 - 1) // tw + 1):
                index = ty * across + tx
                handle.seek(page.dataoffsets[index])
                data = handle.read(page.databytecounts[index])
                tile = page.decode(data, index, jpegtables=page.jpegtables)[0]
                tile = tile.reshape(th, tw, samples)
                top, left = ty * th, tx * tw
                sy0, sy1 = max(y0, top), min(y1, top + th)
                sx0, sx1 = max(x0, left), min(x1, left + tw)
                region[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = \
                    tile[sy0 - top:sy1 - top, sx0 - left:sx1 - left]
        return region

    def get_thumbnail(self, size: tuple[int, int]):
        """A PIL RGB image fitting in `size`, from the smallest level that is still large enough."""
        level = self.level_count - 1
        for i, (w, h) in enumerate(self.level_dimensions):
            if w >= size[0] and h >= size[1]:
                level = i
        width, height = self.level_dimensions[level]
        if width * height <= WHOLE_LEVEL_PIXELS:
            image = self.read_region((0, 0), level, (width, height)).convert("RGB")
            image.thumbnail(size)
            return image
        return self._banded_thumbnail(level, size)

    def _banded_thumbnail(self, level: int, size: tuple[int, int]):
        """A large single level shrunk band by band (memory bounded by one band)."""
        from PIL import Image  # heavy: imported on first use

        width, height = self.level_dimensions[level]
        factor = max(width / size[0], height / size[1])
        out_w, out_h = max(1, round(width / factor)), max(1, round(height / factor))
        image = Image.new("RGB", (out_w, out_h))
        page = self._pages[level]
        band = max(page.tilelength if page.is_tiled else 256, math.ceil(factor))
        for top in range(0, height, band):
            rows = min(band, height - top)
            first, last = round(top / factor), round((top + rows) / factor)
            if last <= first:
                continue
            part = Image.fromarray(self._read(level, 0, top, width, rows)[..., :3], "RGB")
            image.paste(part.resize((out_w, last - first)), (0, first))
        return image


def _as_rgb(pixels):
    """Grey, RGB or RGBA pixels as uint8 RGB."""
    import numpy as np  # heavy: imported on first use

    array = np.asarray(pixels)
    if array.ndim == 2:
        array = array[..., None]
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    array = array[..., :3]
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return array
