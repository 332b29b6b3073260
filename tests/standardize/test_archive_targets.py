"""Every raw archive unpacks into its own folder, named after its raw path: archives with the same
file name in different folders, or the same stem in one folder, are never merged, a collision is an
error (never a deletion), and the extraction markers are keyed by raw path."""
from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

import pytest
from std_case import StandardizerCase
from std_helpers import ihc_pixels  # noqa: F401 - fixture

from histodata import archives
from histodata.errors import ExtractionCollisionError


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def tar_gz_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def png_bytes(pixels) -> bytes:
    buffer = io.BytesIO()
    from PIL import Image

    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def loose_classes(pixels, offset: int) -> dict[str, bytes]:
    """Loose ADI/ and TUM/ folders, three images each, the same names in every archive."""
    return {f"{cls}/{i}.png": png_bytes(pixels[offset + c * 40:offset + c * 40 + 16, i * 16:(i + 1) * 16])
            for c, cls in enumerate(("ADI", "TUM")) for i in range(3)}


def test_same_archive_name_in_two_raw_folders_keeps_all_twelve_images(ihc_pixels):
    files = {"train/images.zip": zip_bytes(loose_classes(ihc_pixels, 0)),
             "test/images.zip": zip_bytes(loose_classes(ihc_pixels, 100))}
    case = StandardizerCase("folder-per-class", dataset="twelve", files=files,
                            samples=12, splits={"train": 6, "test": 6}, classes=["ADI", "TUM"],
                            rows={"train/images/ADI/0": {"split": "train", "source": "train/images.zip",
                                                         "image": "images/train/images/ADI/0.png"},
                                  "test/images/ADI/0": {"split": "test", "source": "test/images.zip"}})
    outcome = case.run()
    train, test = (outcome.paths.base / outcome.manifest.loc[f"{s}/images/ADI/0", "image"] for s in ("train", "test"))
    assert train.read_bytes() != test.read_bytes()          # both archives' own bytes, none overwritten
    again = case.again(changed=False).run(write=False)      # markers keyed by raw path: nothing redone, 12 rows
    assert len(again.manifest) == 12


def test_zip_and_tar_with_one_stem_in_one_folder_are_kept_apart(ihc_pixels):
    files = {"train.zip": zip_bytes(loose_classes(ihc_pixels, 0)),
             "train.tar.gz": tar_gz_bytes(loose_classes(ihc_pixels, 100))}
    outcome = StandardizerCase("folder-per-class", dataset="stems", files=files, samples=12,
                               splits={"train": 12}).run()
    assert set(outcome.manifest.source) == {"train.zip", "train.tar.gz"}


def test_a_file_never_replaces_a_folder_of_another_archive(tmp_path):
    first = tmp_path / "a.zip"
    first.write_bytes(zip_bytes({"x/keep.txt": b"keep"}))
    second = tmp_path / "b.zip"
    second.write_bytes(zip_bytes({"x": b"a file named like the folder"}))
    archives.extract(first, tmp_path / "out")
    with pytest.raises(ExtractionCollisionError, match="already there"):
        archives.extract(second, tmp_path / "out")
    assert (tmp_path / "out" / "x" / "keep.txt").read_bytes() == b"keep"   # nothing deleted


def test_a_different_file_of_another_archive_is_a_collision(tmp_path):
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    first.write_bytes(zip_bytes({"x.txt": b"first"}))
    second.write_bytes(zip_bytes({"x.txt": b"second"}))
    archives.extract(first, tmp_path / "out")
    with pytest.raises(ExtractionCollisionError):
        archives.extract(second, tmp_path / "out")
    assert (tmp_path / "out" / "x.txt").read_bytes() == b"first"
    second.write_bytes(zip_bytes({"x.txt": b"first"}))          # identical content is no collision
    assert archives.extract(second, tmp_path / "out").changed


def test_raw_extract_lists_both_data_zips_in_two_folders():
    files = {"a/data.zip": zip_bytes({"one.txt": b"a"}), "b/data.zip": zip_bytes({"one.txt": b"b"})}
    case = StandardizerCase("raw", dataset="two-data", options={"extract": True}, files=files, samples=2)
    outcome = case.run()
    assert sorted(outcome.manifest.source) == ["a/data.zip", "b/data.zip"]
    assert case.again(changed=False).run(write=False).manifest.shape[0] == 2   # and again: no failure


def test_raw_extract_with_data_gz_next_to_data_zip():
    files = {"data.gz": gzip.compress(b"decompressed"), "data.zip": zip_bytes({"member.txt": b"m"})}
    outcome = StandardizerCase("raw", dataset="gz-zip", options={"extract": True}, files=files, samples=2).run()
    by_source = outcome.manifest.set_index("source")
    assert (outcome.paths.base / by_source.loc["data.gz", "image"]).read_bytes() == b"decompressed"
    assert (outcome.paths.base / by_source.loc["data.zip", "image"]).read_bytes() == b"m"
