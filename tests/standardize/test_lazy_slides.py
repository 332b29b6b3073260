"""Slides read lazily: `Dataset.slide(row)` (OpenSlide, or tifffile for TIFFs), `read_region`,
`thumbnail`; `read_image` refuses a whole-slide row and the PyTorch adapter refuses slides. A small
generated pyramidal TIFF (tifffile writes it) stands in for a slide."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile

import histodata
from histodata.errors import HistodataError, StandardizeError
from histodata.layout import dataset_paths
from histodata.standardize import standardize_dataset
from histodata.wsi import TiffSlide, is_whole_slide

WIDTH, HEIGHT = 1536, 1024


def pixels() -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    return np.stack([x % 256, y % 256, (x // 7 + y // 5) % 256], axis=-1).astype(np.uint8)


def write_pyramid(path, image, mpp=0.25):
    """Level 0 tiled with two reduced levels in SubIFDs, as tifffile and scanners write them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tifffile.TiffWriter(path) as tif:
        tif.write(image, tile=(256, 256), subifds=2, compression="zlib", photometric="rgb",
                  resolution=(1e4 / mpp, 1e4 / mpp), resolutionunit="CENTIMETER")
        tif.write(image[::2, ::2], tile=(256, 256), subfiletype=1, compression="zlib", photometric="rgb")
        tif.write(image[::4, ::4], tile=(256, 256), subfiletype=1, compression="zlib", photometric="rgb")


@pytest.fixture
def slides():
    paths = dataset_paths("wsi")
    image = pixels()
    write_pyramid(paths.raw / "case-1.tif", image)
    entry = {"id": "wsi", "name": "wsi", "organs": ["breast"], "stains": ["h&e"], "tasks": ["classification"],
             "modality": "wsi", "access": "open", "standardize": {"with": "slides"}}
    standardize_dataset(entry, paths, quiet=True)
    return histodata.load("wsi"), image


def test_read_image_refuses_a_slide_and_names_the_lazy_readers(slides):
    ds, _ = slides
    with pytest.raises(StandardizeError, match="whole-slide image") as caught:
        ds.read_image(0)
    assert "ds.slide(row)" in caught.value.hint and "read_region" in caught.value.hint
    assert "thumbnail" in caught.value.hint


def test_regions_at_each_level_without_decoding_a_level_whole(slides, monkeypatch):
    ds, image = slides
    monkeypatch.setattr(tifffile.TiffPage, "asarray", lambda *a, **k: pytest.fail("a level was read whole"))
    with ds.slide(0, backend="tifffile") as slide:
        assert isinstance(slide, TiffSlide) and slide.level_count == 3
        assert slide.dimensions == (WIDTH, HEIGHT) and slide.level_dimensions[2] == (WIDTH // 4, HEIGHT // 4)
        assert float(slide.properties["openslide.mpp-x"]) == pytest.approx(0.25)
    region = ds.read_region(0, (300, 200), 0, (100, 50), backend="tifffile")
    assert region.shape == (50, 100, 3) and (region == image[200:250, 300:400]).all()
    level1 = ds.read_region(0, (512, 256), 1, (64, 64), backend="tifffile")      # location in level-0 pixels
    assert (level1 == image[::2, ::2][128:192, 256:320]).all()
    with ds.slide(0, backend="tifffile") as slide:                              # past the edge: transparent
        edge = np.asarray(slide.read_region((WIDTH - 20, HEIGHT - 10), 0, (40, 30)))
    assert (edge[:10, :20, :3] == image[-10:, -20:]).all() and (edge[:10, :20, 3] == 255).all()
    assert (edge[10:, :, 3] == 0).all() and (edge[:, 20:, 3] == 0).all()


def test_thumbnails_from_a_small_level_and_band_by_band(slides, monkeypatch):
    ds, image = slides
    from PIL import Image

    thumb = ds.thumbnail(0, (200, 200), backend="tifffile")
    expected = Image.fromarray(image[::4, ::4])                 # level 2 is the smallest that is large enough
    expected.thumbnail((200, 200))
    assert thumb.shape == (133, 200, 3) and (thumb == np.asarray(expected)).all()
    from histodata import wsi

    monkeypatch.setattr(wsi, "WHOLE_LEVEL_PIXELS", 1000)
    banded = ds.thumbnail(0, (200, 200), backend="tifffile")
    assert banded.shape == thumb.shape and np.abs(banded.astype(int) - thumb.astype(int)).mean() < 40


def test_openslide_opens_it_when_installed(slides):
    openslide = pytest.importorskip("openslide")
    ds, image = slides
    with ds.slide(0) as slide:
        assert isinstance(slide, openslide.OpenSlide) and slide.dimensions == (WIDTH, HEIGHT)
    assert (ds.read_region(0, (300, 200), 0, (100, 50)) == image[200:250, 300:400]).all()


def test_what_counts_as_a_whole_slide(tmp_path, slides):
    ds, _ = slides
    small = tmp_path / "tile.tif"
    tifffile.imwrite(small, pixels()[:64, :64])
    assert is_whole_slide(ds.root / ds.manifest.image[0]) and not is_whole_slide(small)
    assert is_whole_slide(tmp_path) and is_whole_slide(tmp_path / "x.svs")     # a DICOM series folder; SVS


def test_the_torch_adapter_refuses_slides(slides):
    from histodata.torch import ManifestDataset

    with pytest.raises(HistodataError, match="whole-slide images") as caught:
        ManifestDataset("wsi", as_tensor=False)
    assert "read_region" in caught.value.hint


def test_dropping_raw_keeps_the_slides_the_manifest_reads_in_place(slides):
    from histodata.removal import drop_raw

    ds, image = slides
    (ds.paths.raw / "notes.txt").write_text("not a slide")
    report = drop_raw("wsi")
    assert report.dropped == ["notes.txt"] and report.kept == ["case-1.tif"]
    assert (ds.read_region(0, (0, 0), 0, (8, 8), backend="tifffile") == image[:8, :8]).all()
