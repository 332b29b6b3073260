"""`kind: tcia-pathdb` against the PathDB emulator through the mirror map: paging from 0 to `[]`,
`http://` file URLs fetched over https, sizes from a one-byte Range GET (HEAD has no length), a page
that is not JSON, an unknown collection id."""
import json

import pytest

from emulators.pathdb import SITE, PathDBEmulator
from histodata.errors import DownloadError
from histodata.http import new_session
from histodata.registry.models import Source
from histodata.sources import tcia_pathdb

SLIDES = {f"C3N-{i:05d}-21": (f"C3N-{i // 2:05d}", f"slide {i} ".encode() * (i + 1)) for i in range(5)}


@pytest.fixture
def pathdb(emulate):
    emulator = emulate(PathDBEmulator(page_size=2))
    emulator.add_collection(529, "CPTAC_OV", SLIDES, mpp=0.2523)
    emulator.add_collection(10, "Prostate_MRI", {"MIP-PROSTATE-01-0001": ("MIP-PROSTATE-01-0001", b"tiff")},
                            nid=3000)
    return emulator


def listed(collection_id):
    return {f.name: f for f in tcia_pathdb.list_files(Source(kind="tcia-pathdb", collection_id=collection_id),
                                                      new_session(), None)}


def test_listing_pages_from_zero_until_an_empty_list(pathdb):
    files = listed(529)
    assert set(files) == {f"{subject}/{image}.svs" for image, (subject, _) in SLIDES.items()}
    pages = [int(r.query["page"]) for r in pathdb.site.seen("/listofimages/529")]
    assert pages == [0, 1, 2, 3]                      # 2 + 2 + 1 images, then []
    assert all(r.query.get("_format") == "json" for r in pathdb.site.seen("/listofimages/"))


def test_files_are_fetched_over_https_sized_by_a_range_request_and_unverified(pathdb):
    files = listed(529)
    image, (subject, data) = "C3N-00003-21", SLIDES["C3N-00003-21"]
    remote = files[f"{subject}/{image}.svs"]
    assert remote.url == f"{SITE}/system/files/wsi/ross/CPTAC_OV/converted/{image}.svs"
    assert remote.size == len(data) and remote.checksums == {}
    assert remote.verified_by == "size only (unverified)"
    probes = pathdb.site.seen(f"/{image}.svs")
    assert probes and all(r.method == "GET" and r.headers.get("range") == "bytes=0-0" for r in probes)


def test_head_has_no_length_as_on_the_real_service(pathdb):
    response = new_session().head(f"{SITE}/system/files/wsi/ross/CPTAC_OV/converted/C3N-00000-21.svs")
    assert response.status_code == 200 and "Content-Length" not in response.headers


def test_metadata_per_image_with_pixel_size_only_when_known(pathdb):
    remote = listed(529)["C3N-00001/C3N-00002-21.svs"]
    assert remote.metadata == {"collection": "CPTAC_OV", "collection_id": "529", "patient": "C3N-00001",
                               "image": "C3N-00002-21", "width": "7324", "height": "6167",
                               "mpp_x": "0.2523", "mpp_y": "0.2523"}
    prostate = listed("10")["MIP-PROSTATE-01-0001/MIP-PROSTATE-01-0001.svs"]
    assert "mpp_x" not in prostate.metadata and prostate.metadata["collection"] == "Prostate_MRI"


def test_a_page_that_is_not_json_is_a_clear_error(pathdb):
    pathdb.not_json_pages.add(1)
    with pytest.raises(DownloadError, match=r"TCIA PathDB collection 529, page 1: .* did not answer JSON"):
        listed(529)


def test_an_unknown_collection_id_names_known_ones(pathdb):
    with pytest.raises(DownloadError, match="no collection with id 999 .*529 CPTAC_OV"):
        listed(999)


def test_fetch_end_to_end_size_checked_and_a_missing_file_does_not_stop_the_rest(pathdb, extra_registry):
    from emulators.entries import entry_yaml
    from helpers import run_cli
    from histodata.layout import dataset_paths, read_record

    missing = "/system/files/wsi/ross/CPTAC_OV/converted/C3N-00004-21.svs"
    pathdb.missing_files.add(missing)
    extra_registry(entry_yaml("pathdb-test", {"kind": "tcia-pathdb", "collection_id": 529}, modality="wsi"))
    plan = json.loads(run_cli("fetch", "pathdb-test", "--dry-run", "--json").stdout)
    assert len(plan["files"]) == len(SLIDES)
    result = run_cli("fetch", "pathdb-test", "--json")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "C3N-00004-21.svs" in result.stderr and "404" in result.stderr
    raw = dataset_paths("pathdb-test").raw
    for image, (subject, data) in SLIDES.items():
        if image != "C3N-00004-21":
            assert (raw / subject / f"{image}.svs").read_bytes() == data
    recorded = read_record(dataset_paths("pathdb-test"))["files"]
    assert len(recorded) == len(SLIDES) - 1
    assert all(record["verified_against"] == "none" for record in recorded.values())
    pathdb.missing_files.clear()                     # back again: the next run fetches only that one
    again = run_cli("fetch", "pathdb-test")
    assert again.returncode == 0, again.stderr
    assert "are unverified" in again.stderr
    downloads = [r for r in pathdb.site.seen("/C3N-00000-21.svs") if r.headers.get("range") != "bytes=0-0"]
    assert len(downloads) == 1                      # fetched once; the other requests were size probes
