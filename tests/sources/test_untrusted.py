"""Provider answers are untrusted input: malformed JSON fields are a clear DownloadError (never the
exit-70 "this is a bug" path), and the fetch falls back to the entry's next source."""
from __future__ import annotations

import pytest
from emulators.entries import entry_yaml
from emulators.kaggle import KaggleEmulator
from emulators.s3 import S3Emulator
from emulators.zenodo import ZenodoEmulator
from helpers import run_cli

from histodata.errors import DownloadError
from histodata.http import new_session
from histodata.layout import dataset_paths
from histodata.registry.models import Source
from histodata.sources import kaggle, s3, untrusted

FILES = {"tiles.zip": b"zip bytes " * 100, "labels.csv": b"id,label\n1,tumor\n"}
BROKEN = [{"key": 12345}, {"size": "big"}, {"links": "nope"}, {"checksum": ["md5", "x"]}, {"size": -3}]


@pytest.fixture
def zen(emulate):
    return emulate(ZenodoEmulator())


@pytest.mark.parametrize("fault", BROKEN, ids=lambda f: next(iter(f)))
def test_a_malformed_first_source_falls_back_to_the_second(zen, extra_registry, fault):
    zen.add("1001", FILES, overrides=fault)
    zen.add("1002", FILES)
    extra_registry(entry_yaml("two-records", {"kind": "zenodo", "record": "1001"},
                              {"kind": "zenodo", "record": "1002"}))
    result = run_cli("fetch", "two-records")
    assert result.returncode == 0, result.stderr
    assert "unexpected answer from Zenodo" in result.stderr and "Trying zenodo (source 2)" in result.stderr
    raw = dataset_paths("two-records").raw
    assert {p.name: p.read_bytes() for p in raw.iterdir() if not p.name.startswith(".")} == FILES
    assert all("/records/1002/" in r.path for r in zen.server.seen("/content"))


@pytest.mark.parametrize("fault", BROKEN, ids=lambda f: next(iter(f)))
def test_a_malformed_only_source_is_a_clear_error(zen, extra_registry, fault):
    zen.add("1001", FILES, overrides=fault)
    extra_registry(entry_yaml("one-record", {"kind": "zenodo", "record": "1001"}))
    result = run_cli("fetch", "one-record")
    assert result.returncode == 1, result.stderr
    assert "unexpected answer from Zenodo" in result.stderr and "this is a bug" not in result.stderr


def test_kaggle_listing_of_the_wrong_shape(emulate, monkeypatch):
    emulator = emulate(KaggleEmulator(users={"alice": "k" * 20}))
    emulator.datasets["bob/x"] = {"a.bin": b"a"}
    monkeypatch.setenv("KAGGLE_USERNAME", "alice")
    monkeypatch.setenv("KAGGLE_KEY", "k" * 20)
    source = Source(kind="kaggle", dataset="bob/x")
    for document, said in (({"datasetFiles": "nope"}, "not a list"), ({"datasetFiles": [5]}, "not an object"),
                           ({"datasetFiles": [{"name": 7}]}, "not text"),
                           ({"datasetFiles": [{"name": "a", "totalBytes": "big"}]}, "not a size"),
                           ({"datasetFiles": [], "nextPageToken": {"x": 1}}, "not text")):
        emulator.listing_override = document
        with pytest.raises(DownloadError, match=f"unexpected answer from Kaggle: .*{said}"):
            kaggle.list_files(source, new_session(), None)


def test_s3_size_that_is_not_a_number(emulate):
    emulator = emulate(S3Emulator())
    emulator.objects["a.bin"] = b"a"
    emulator.sizes["a.bin"] = "big"
    with pytest.raises(DownloadError, match="unexpected answer from S3: the Size of 'a.bin' is \"big\""):
        s3.list_files(Source(kind="s3", bucket=emulator.bucket, region=emulator.region), new_session(), None)


@pytest.mark.parametrize("value, expected", [(5, 5), ("17", 17), (3.0, 3), (None, None), ("", None)])
def test_count_accepts_whole_numbers_and_their_text(value, expected):
    assert untrusted.count({"size": value}, "size", "X") == expected


@pytest.mark.parametrize("value", [True, -1, 2.5, "big", [1], {"a": 1}])
def test_count_refuses_the_rest(value):
    with pytest.raises(DownloadError, match="unexpected answer from X: the field 'size' is .*not a size"):
        untrusted.count({"size": value}, "size", "X")
