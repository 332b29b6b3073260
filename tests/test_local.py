"""histodata.load and `histodata list --local` / `status` on datasets in every state."""
from __future__ import annotations

import json

import pytest

import histodata
from helpers import run_cli
from histodata.errors import HistodataError, StandardizeError, UnknownDatasetError
from histodata.layout import dataset_paths, write_record
from histodata.standardize import standardize_dataset


def standardized(dataset_id: str, files: dict[str, bytes]):
    paths = dataset_paths(dataset_id)
    for name, data in files.items():
        (paths.raw / name).parent.mkdir(parents=True, exist_ok=True)
        (paths.raw / name).write_bytes(data)
    entry = {"id": dataset_id, "name": dataset_id, "organs": ["colon"], "stains": ["h&e"],
             "tasks": ["classification"], "modality": "patch", "access": "open",
             "standardize": {"with": "raw"}}
    standardize_dataset(entry, paths, quiet=True)
    return paths


def test_load_gives_root_manifest_classes_info(isolated_env):
    paths = standardized("alpha", {"a.txt": b"abc", "d/b.txt": b"hello"})
    ds = histodata.load("alpha")
    assert ds.root == paths.base and ds.root.is_absolute() and len(ds) == 2
    assert ds.manifest.sample_id.tolist() == ["a.txt", "d/b.txt"]
    assert ds.info["standardized"]["standardizer"] == "raw" and ds.info["layout_version"] == 1
    assert ds.classes == [] and "alpha" in repr(ds)
    assert histodata.load("alpha", root=isolated_env).root == paths.base


def test_load_explains_missing_and_unstandardized(tmp_path):
    with pytest.raises(StandardizeError, match="is not on disk.*histodata fetch bcss"):
        histodata.load("bcss")
    with pytest.raises(UnknownDatasetError, match="No dataset with id 'beta'"):
        histodata.load("beta")                   # neither in the registry nor on disk
    paths = dataset_paths("beta")
    paths.raw.mkdir(parents=True)
    with pytest.raises(StandardizeError, match="not standardized"):
        histodata.load("beta")                   # a local-only dataset is still found
    custom = tmp_path / "elsewhere"
    with pytest.raises(StandardizeError, match=f"--root {custom}"):
        histodata.load("BCSS", root=custom)


def test_list_shows_states_and_sizes():
    standardized("ready-one", {"x.bin": b"x" * 1000})
    raw_only = dataset_paths("raw-only")
    raw_only.raw.mkdir(parents=True)
    (raw_only.raw / "f").write_bytes(b"y" * 10)
    partial = dataset_paths("partial-one")
    (partial.base / ".partial").mkdir(parents=True)
    write_record(partial, {"entry": {"id": "partial-one"}})
    result = run_cli("list", "--local", "--json")
    assert result.returncode == 0, result.stderr
    states = {d["id"]: (d["state"], d["samples"]) for d in json.loads(result.stdout)}
    assert states == {"ready-one": ("ready", 1), "raw-only": ("raw only", None),
                      "partial-one": ("partial download", None)}
    sizes = {d["id"]: d["bytes"] for d in json.loads(result.stdout)}
    assert sizes["raw-only"] == 10 and sizes["ready-one"] >= 1000
    table = run_cli("status")
    assert table.returncode == 0 and "raw only" in table.stdout and "3 dataset(s)" in table.stdout


def test_list_of_an_empty_root():
    result = run_cli("list", "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == []


def test_torch_adapter_reads_rows_without_needing_torch_for_numpy(tmp_path):
    import numpy as np
    from PIL import Image

    paths = dataset_paths("tiles")
    for cls, value in (("A", 10), ("B", 200)):
        (paths.raw / "train" / cls).mkdir(parents=True)
        Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(paths.raw / "train" / cls / "1.png")
    entry = {"id": "tiles", "name": "tiles", "organs": ["colon"], "stains": ["h&e"],
             "tasks": ["classification"], "modality": "patch", "access": "open",
             "standardize": {"with": "folder-per-class"}}
    standardize_dataset(entry, paths, quiet=True)
    from histodata.torch import ManifestDataset

    data = ManifestDataset("tiles", split="train", as_tensor=False)
    assert len(data) == 2
    image, target = data[1]
    assert image.shape == (8, 8, 3) and image[0, 0, 0] == 200 and target == 1
    with pytest.raises(HistodataError, match=r"no split 'test'; its splits: train"):
        ManifestDataset("tiles", split="test", as_tensor=False)     # not 0 silent items
    seen = []
    shaped = ManifestDataset("tiles", split="train", as_tensor=False,
                             transform=lambda image: seen.append((image.dtype, image.shape)) or "done")
    assert shaped[0][0] == "done" and seen == [(np.uint8, (8, 8, 3))]   # the documented transform input


def test_an_image_claiming_a_huge_size_is_a_clear_error(tmp_path):
    import io

    from PIL import Image

    from histodata.local import read_array

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = (30000).to_bytes(2, "big") * 2      # the header claims 30000 x 30000
    path = tmp_path / "big.jpg"
    path.write_bytes(bytes(data))
    with pytest.raises(StandardizeError) as info:
        read_array(path)
    assert "big.jpg" in str(info.value) and "900,000,000 pixels" in str(info.value)
    assert "MAX_IMAGE_PIXELS" in info.value.hint
