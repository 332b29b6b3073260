"""`kind: bisque` against the BisQue emulator through the mirror map: the dataset's members from the
data service (`?view=deep`), each file from the blob service, sizes from a one-byte Range GET, names
kept apart when members share one, members on another host refused, a private dataset an access
error; and the real `gelasca-breast-cancer-cells` entry fetched and listed end to end."""
import json

import pytest
from emulators.bisque import SITE, BisQueEmulator
from helpers import run_cli

import histodata
from histodata.errors import AccessError, DownloadError
from histodata.http import new_session
from histodata.layout import dataset_paths, read_record
from histodata.registry.models import Source
from histodata.sources import bisque

GELASCA = "00-a2te7hGatVUeLtvWV74y2R"
FILES = {f"00-member{i:02d}": (name, f"{name} pixels ".encode() * (i + 3))
         for i, name in enumerate(["ytma10_010704_benign1_ccd.tif", "ytma10_010704_benign1.TIF",
                                   "ytma12_010804_malignant1_ccd.tif", "ytma12_010804_malignant1.TIF"])}


@pytest.fixture
def server(emulate):
    emulator = emulate(BisQueEmulator())
    emulator.add_dataset(GELASCA, "BreastCancerCell_dataset", FILES)
    return emulator


def listed(dataset=f"{SITE}/data_service/{GELASCA}"):
    return {f.name: f for f in bisque.list_files(Source(kind="bisque", dataset=dataset), new_session(), None)}


def test_members_come_from_the_deep_view_and_bytes_from_the_blob_service(server):
    files = listed()
    assert set(files) == {name for name, _ in FILES.values()}
    remote = files["ytma10_010704_benign1.TIF"]
    assert remote.url == f"{SITE}/blob_service/00-member01"
    assert remote.metadata == {"resource": "00-member01", "dataset": GELASCA}
    assert [r.query.get("view") for r in server.site.seen(f"/data_service/{GELASCA}")] == ["deep"]


def test_sizes_from_a_one_byte_range_request_and_files_unverified(server):
    remote = listed()["ytma12_010804_malignant1_ccd.tif"]
    assert remote.size == len(FILES["00-member02"][1]) and remote.checksums == {}
    assert remote.verified_by == "size only (unverified)"
    probes = server.site.seen("/blob_service/00-member02")
    assert probes and all(r.headers.get("range") == "bytes=0-0" for r in probes)


def test_an_answer_wrapped_in_a_resource_element_reads_the_same(server):
    server.wrapped = True
    assert set(listed()) == {name for name, _ in FILES.values()}


def test_members_sharing_a_name_each_keep_their_own_file(server):
    server.add_dataset("00-twins", "twins", {"00-aaa": ("mask.tif", b"first"), "00-bbb": ("mask.tif", b"second"),
                                             "00-ccc": ("other.tif", b"third")})
    files = listed(f"{SITE}/data_service/00-twins")
    assert set(files) == {"00-aaa/mask.tif", "00-bbb/mask.tif", "other.tif"}


def test_a_member_on_another_host_is_refused(server):
    server.foreign_members = True
    with pytest.raises(DownloadError, match="on another server"):
        listed()
    assert not server.site.seen("/blob_service/")


def test_a_private_dataset_is_an_access_error(server):
    server.private.add(GELASCA)
    with pytest.raises(AccessError, match="HTTP 403"):
        listed()


def test_a_url_that_is_not_a_dataset_url_says_what_to_write():
    with pytest.raises(DownloadError, match="not a BisQue dataset URL"):
        bisque.split_dataset_url(f"{SITE}/client_service/view?resource=x")


def test_the_gelasca_entry_is_fetched_from_bisque_and_listed(server):
    plan = json.loads(run_cli("fetch", "gelasca-breast-cancer-cells", "--dry-run", "--json").stdout)
    assert len(plan["files"]) == len(FILES)
    result = run_cli("fetch", "gelasca-breast-cancer-cells", "--json")
    assert result.returncode == 0, result.stderr
    paths = dataset_paths("gelasca-breast-cancer-cells")
    for name, data in FILES.values():
        assert (paths.raw / name).read_bytes() == data
    recorded = read_record(paths)["files"]
    assert len(recorded) == len(FILES) and all(r["verified_against"] == "none" for r in recorded.values())
    manifest = histodata.load("gelasca-breast-cancer-cells").manifest
    assert sorted(manifest.image) == sorted(f"raw/{name}" for name, _ in FILES.values())
    downloads = [r for r in server.site.seen("/blob_service/") if r.headers.get("range") != "bytes=0-0"]
    assert len(downloads) == len(FILES)            # each file once; the other requests were size probes
