"""Girder / DSA listing and downloads against the local Girder emulator, through the mirror map."""
from __future__ import annotations

import hashlib
import json

import pytest
from emulators.entries import entry_yaml
from emulators.girder import API, GirderEmulator, annotation_document
from helpers import assert_secrets_absent, run_cli
from PIL import Image

from histodata.errors import AccessError, CredentialsError
from histodata.http import new_session
from histodata.layout import dataset_paths
from histodata.registry.models import Source
from histodata.sources import girder
from histodata.transfer import download

KEY = "girderkey-0123456789abcdef"


@pytest.fixture
def server(emulate):
    emulator = GirderEmulator(api_keys={KEY: "alice"})
    collection = emulator.collection("data")
    top = emulator.folder(collection, "top")
    emulator.item(top, "readme.txt", {"readme.txt": b"hello girder\n"})
    emulator.item(top, "case-1", {"a.csv": b"x,y\n1,2\n", "b.csv": b"x\n3\n"})
    many = emulator.folder(top, "many")
    for i in range(120):                       # more than two pages of 50 (and more than one of ours)
        emulator.item(many, f"tile_{i:03d}.png", {f"tile_{i:03d}.png": bytes([i]) * (i + 1)})
    private = emulator.folder(collection, "private", public=False)
    emulator.item(private, "secret.bin", {"secret.bin": b"s" * 100})
    emulator.refs = {"top": top, "private": private, "many": many}
    return emulate(emulator)


def source(**fields) -> Source:
    return Source(kind="girder", api_url=API, **fields)


def test_folder_tree_is_kept_with_paging_sizes_and_sha512(server):
    files = girder.list_files(source(folder=server.refs["top"].id), new_session(), None)
    names = {f.name: f for f in files}
    assert "readme.txt" in names and "case-1/a.csv" in names and "case-1/b.csv" in names
    assert sum(1 for n in names if n.startswith("many/")) == 120
    readme = names["readme.txt"]
    assert readme.size == len(b"hello girder\n")
    assert readme.checksums == {"sha512": hashlib.sha512(b"hello girder\n").hexdigest()}
    assert readme.checksum_origin == "provider"
    assert readme.url.startswith(API + "/file/") and readme.url.endswith("/download")
    assert readme.headers == {}        # anonymous: no token travels
    item_pages = [r for r in server.server.seen("/api/v1/item") if r.query.get("folderId") == server.refs["many"].id]
    assert len(item_pages) == 1 and item_pages[0].query["limit"] == str(girder.PAGE_SIZE)


def test_lookup_by_path_and_download_with_range_resume(server, tmp_path):
    files = girder.list_files(source(path="/collection/data/top/case-1"), new_session(), None)
    assert sorted(f.name for f in files) == ["case-1/a.csv", "case-1/b.csv"]
    target = tmp_path / "a.csv"
    remote = next(f for f in files if f.name.endswith("a.csv"))
    partial_dir = target.parent
    result = download(remote.url, target, remote.checksums, remote.size, remote.headers,
                      session=new_session(), quiet=True)
    assert target.read_bytes() == b"x,y\n1,2\n" and "sha512" in result.verified
    assert partial_dir.exists()


def test_a_server_that_caps_page_sizes_is_paged_by_its_total_count(server, monkeypatch):
    server.max_limit = 50
    files = girder.list_files(source(folder=server.refs["many"].id), new_session(), None)
    assert len(files) == 120
    offsets = [r.query["offset"] for r in server.server.seen("/api/v1/item") if r.query.get("folderId")]
    assert offsets == ["0", "50", "100"]


def test_a_server_reading_the_key_from_the_query_only_still_signs_in(server, monkeypatch):
    server.key_in_query_only = True
    monkeypatch.setenv("GIRDER_API_KEY", KEY)
    server.grant("alice", server.refs["private"])
    files = girder.list_files(source(folder=server.refs["private"].id), new_session(), None)
    assert [f.name for f in files] == ["secret.bin"]
    assert len(server.server.seen("api_key/token")) == 2      # the body first, then the query


def test_a_cut_download_resumes_with_range(server, tmp_path, monkeypatch):
    monkeypatch.setenv("HISTODATA_BACKOFF", "0")
    files = girder.list_files(source(folder=server.refs["many"].id), new_session(), None)
    remote = next(f for f in files if f.name == "tile_119.png")
    file_id = remote.url.rsplit("/", 2)[-2]
    server.cut_once.add(file_id)
    result = download(remote.url, tmp_path / "t.png", remote.checksums, remote.size, remote.headers,
                      session=new_session(), quiet=True)
    assert (tmp_path / "t.png").read_bytes() == bytes([119]) * 120 and "sha512" in result.verified
    ranges = [r.headers.get("range") for r in server.server.seen(f"/file/{file_id}/download")]
    assert ranges == [None, "bytes=60-"]


def test_private_folder_anonymous_is_an_access_error_naming_the_variable(server):
    with pytest.raises(AccessError) as info:
        girder.list_files(source(folder=server.refs["private"].id), new_session(), None)
    assert "GIRDER_API_KEY" in str(info.value)


def test_api_key_becomes_a_token_header_and_never_a_url(server, monkeypatch):
    monkeypatch.setenv("GIRDER_API_KEY", KEY)
    server.grant("alice", server.refs["private"])
    files = girder.list_files(source(folder=server.refs["private"].id), new_session(), None)
    assert [f.name for f in files] == ["secret.bin"]
    token = files[0].headers["Girder-Token"]
    assert token in server.tokens
    token_requests = server.server.seen("api_key/token")
    assert token_requests and all(KEY not in r.path and KEY not in json.dumps(r.query) for r in server.server.requests)
    assert KEY.encode() in token_requests[0].body


def test_signed_in_without_access_gets_403_as_access_error(server, monkeypatch):
    monkeypatch.setenv("GIRDER_API_KEY", KEY)
    with pytest.raises(AccessError) as info:
        girder.list_files(source(folder=server.refs["private"].id), new_session(), None)
    assert "no access" in str(info.value)


def test_wrong_api_key_is_a_credentials_error(server, monkeypatch):
    monkeypatch.setenv("GIRDER_API_KEY", "wrong-key-000000")
    with pytest.raises(CredentialsError) as info:
        girder.list_files(source(folder=server.refs["top"].id), new_session(), None)
    assert "GIRDER_API_KEY" in str(info.value) and "wrong-key-000000" not in str(info.value)


# ----------------------------------------------------------------------------- DSA extras
@pytest.fixture
def dsa(emulate):
    emulator = GirderEmulator()
    slides = emulator.folder(emulator.collection("bcss"), "slides")
    native = {"sizeX": 60000, "sizeY": 40000, "mm_x": 0.00025, "magnification": 40.0}
    sk = emulator.item(slides, "TCGA-A1-A0SK-01Z-00-DX1.svs", {"TCGA-A1-A0SK-01Z-00-DX1.svs": b"svs"}, slide=native)
    sk.annotations = [annotation_document(sk)]
    other = emulator.item(slides, "TCGA-A2-A0CM-01Z-00-DX1.svs", {"TCGA-A2-A0CM-01Z-00-DX1.svs": b"svs2"},
                          slide=native)
    other.annotations = []
    emulator.refs = {"slides": slides, "sk": sk}
    return emulate(emulator)


ROI = {"name": "TCGA-A1-A0SK-DX1", "xmin": 45749, "ymin": 25055, "xmax": 46149, "ymax": 25355}


@pytest.mark.parametrize("mpp, expected_name, expected_size", [
    # MPP 0.25 -> mm_x=0.0003 after BCSS's %.4f: 400 px x 0.00025/0.0003 -> 333 px wide
    (0.25, "images/TCGA-A1-A0SK-DX1_xmin45749_ymin25055_MPP-0.2500.png", (333, 250)),
    # MPP 0.23 -> mm_x=0.0002: it upsamples, 400 x 1.25 = 500
    (0.23, "images/TCGA-A1-A0SK-DX1_xmin45749_ymin25055_MPP-0.2300.png", (500, 375)),
])
def test_region_crops_use_bcss_naming_and_mpp_rounding(dsa, tmp_path, mpp, expected_name, expected_size):
    src = source(folder=dsa.refs["slides"].id, regions={"mpp": mpp, "rois": [ROI]})
    files = girder.list_files(src, new_session(), None)
    assert [f.name for f in files] == [expected_name]
    remote = files[0]
    assert remote.downloader == "girder"
    assert f"mm_x={mpp * 1e-3:.4f}" in remote.url and f"/item/{dsa.refs['sk'].id}/tiles/region?" in remote.url
    target = tmp_path / "crop.png"
    result = girder.download(remote, target, new_session(), quiet=True)
    with Image.open(target) as image:
        assert image.format == "PNG" and image.size == expected_size
    assert result.hashes["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert not list(tmp_path.glob("*.region"))


def test_magnification_and_base_resolution_names(dsa):
    by_mag = girder.list_files(source(folder=dsa.refs["slides"].id, regions={"magnification": 20, "rois": [ROI]}),
                               new_session(), None)
    assert by_mag[0].name.endswith("_MAG-20.00.png") and "magnification=20.00" in by_mag[0].url
    base = girder.list_files(source(folder=dsa.refs["slides"].id, regions={"rois": [ROI], "dir": "rgb"}),
                             new_session(), None)
    assert base[0].name == "rgb/TCGA-A1-A0SK-DX1_xmin45749_ymin25055_MAG-0.png"


def test_annotations_are_saved_raw_and_slides_listed_on_request(dsa, tmp_path):
    src = source(folder=dsa.refs["slides"].id, annotations=True, slides=True)
    files = {f.name: f for f in girder.list_files(src, new_session(), None)}
    assert "annotations/TCGA-A1-A0SK-01Z-00-DX1.json" in files
    assert "TCGA-A1-A0SK-01Z-00-DX1.svs" in files
    remote = files["annotations/TCGA-A1-A0SK-01Z-00-DX1.json"]
    target = tmp_path / "a.json"
    download(remote.url, target, headers=remote.headers, session=new_session(), quiet=True)
    saved = json.loads(target.read_text())
    assert saved == dsa.refs["sk"].annotations


# ----------------------------------------------------------------------------- end to end
def test_fetch_of_a_custom_girder_entry_with_token_and_crops(server, extra_registry, monkeypatch):
    monkeypatch.setenv("GIRDER_API_KEY", KEY)
    server.key_in_query_only = True            # the worst case: the key ends up in a query string
    server.grant("alice", server.refs["private"])
    extra_registry(entry_yaml("girder-private", {"kind": "girder", "api_url": API,
                                                 "folder": server.refs["private"].id}))
    result = run_cli("-v", "fetch", "girder-private", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [f["name"] for f in document["files"]] == ["secret.bin"]
    assert document["files"][0]["checksum"] == "sha512 (provider)"
    raw = dataset_paths("girder-private").raw
    assert (raw / "secret.bin").read_bytes() == b"s" * 100
    token = next(iter(server.tokens))
    assert_secrets_absent([KEY, token], result.stdout, result.stderr, root=dataset_paths("girder-private").base)


def test_fetch_of_bcss_style_crops(dsa, extra_registry):
    extra_registry(entry_yaml("bcss-mini", {"kind": "girder", "api_url": API, "folder": dsa.refs["slides"].id,
                                            "regions": {"mpp": 0.25, "rois": [ROI]}, "annotations": True}))
    result = run_cli("fetch", "bcss-mini", "--json")
    assert result.returncode == 0, result.stderr
    raw = dataset_paths("bcss-mini").raw
    with Image.open(raw / "images" / "TCGA-A1-A0SK-DX1_xmin45749_ymin25055_MPP-0.2500.png") as image:
        assert image.format == "PNG" and image.size == (333, 250)
    assert json.loads((raw / "annotations" / "TCGA-A1-A0SK-01Z-00-DX1.json").read_text())[0]["annotation"]


def bomb_jpeg(width: int = 30000, height: int = 30000) -> bytes:
    """A small JPEG whose header claims `width` x `height` pixels (Pillow refuses to open it)."""
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def test_a_crop_claiming_a_huge_size_is_a_clear_error_not_a_crash(dsa, extra_registry):
    from emulators.service import Reply

    dsa.region = lambda request, item: Reply(200, bomb_jpeg(), {"Content-Type": "image/jpeg"})
    extra_registry(entry_yaml("bcss-bomb", {"kind": "girder", "api_url": API, "folder": dsa.refs["slides"].id,
                                            "regions": {"mpp": 0.25, "rois": [ROI]}}))
    result = run_cli("fetch", "bcss-bomb")
    assert result.returncode not in (0, 70), result.stderr
    assert "Traceback" not in result.stderr and "900,000,000 pixels" in result.stderr
    assert "TCGA-A1-A0SK-DX1_xmin45749_ymin25055_MPP-0.2500.png" in result.stderr
    raw = dataset_paths("bcss-bomb").raw
    left = [p.name for p in raw.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert left == [], "neither the crop nor the server's answer is kept"
