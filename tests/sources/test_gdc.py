"""GDC: the files search (filters, explicit fields, paging), metadata, names, the token's scope."""
import hashlib
import json

import pytest

from emulators.gdc import GDCEmulator
from histodata.errors import CredentialsError, DownloadError
from histodata.http import new_session
from histodata.redact import redact
from histodata.registry.models import Source
from histodata.sources import gdc
from histodata.transfer import download

TOKEN = "gdc-token-0123456789abcdef"


@pytest.fixture
def api(emulate):
    emulator = emulate(GDCEmulator())
    emulator.add("f-1", "TCGA-AA-0001-01Z-00-DX1.A.svs", b"slide one", "TCGA-BRCA", "TCGA-AA-0001")
    emulator.add("f-2", "TCGA-AA-0002-01A-01-TS1.B.svs", b"slide two", "TCGA-BRCA", "TCGA-AA-0002",
                 experimental_strategy="Tissue Slide", sample_type="Solid Tissue Normal")
    emulator.add("f-3", "TCGA-LU-0003-01Z-00-DX1.C.svs", b"slide three", "TCGA-LUAD", "TCGA-LU-0003",
                 primary_site="Bronchus and lung", disease_type="Adenomas and Adenocarcinomas")
    emulator.add("f-4", "TCGA-LU-0004-01Z-00-DX1.D.svs", b"controlled", "TCGA-LUAD", "TCGA-LU-0004",
                 access="controlled")
    emulator.add("f-5", "CPTAC-X.svs", b"other program", "CPTAC-3", "C3L-0001")
    emulator.add("f-6", "TCGA-AA-0001.maf", b"not a slide", "TCGA-BRCA", "TCGA-AA-0001",
                 data_type="Masked Somatic Mutation")
    return emulator


def listed(**fields) -> dict:
    source = Source(kind="gdc", **fields)
    return {f.name: f for f in gdc.list_files(source, new_session(), None)}


def test_program_listing_has_names_sizes_md5_and_case_metadata(api):
    files = listed(program="TCGA")
    assert sorted(files) == ["TCGA-BRCA/TCGA-AA-0001-01Z-00-DX1.A.svs", "TCGA-BRCA/TCGA-AA-0002-01A-01-TS1.B.svs",
                             "TCGA-LUAD/TCGA-LU-0003-01Z-00-DX1.C.svs"]      # open slide images of TCGA only
    remote = files["TCGA-LUAD/TCGA-LU-0003-01Z-00-DX1.C.svs"]
    assert remote.size == len(b"slide three") and remote.checksum_origin == "provider"
    assert remote.checksums == {"md5": hashlib.md5(b"slide three").hexdigest()}
    assert remote.metadata == {"file_id": "f-3", "case": "TCGA-LU-0003", "project": "TCGA-LUAD",
                               "sample_type": "Primary Tumor", "experimental_strategy": "Diagnostic Slide",
                               "primary_site": "Bronchus and lung", "disease_type": "Adenomas and Adenocarcinomas"}
    assert remote.url == "https://api.gdc.cancer.gov/data/f-3" and not remote.headers
    body = api.server.seen("/files")[0].json()
    assert "md5sum" in body["fields"] and "cases.project.project_id" in body["fields"]   # asked explicitly
    assert int(body["size"]) >= 1000


def test_projects_and_experimental_strategy_filter_on_the_server(api):
    assert sorted(listed(projects=["TCGA-BRCA"])) == ["TCGA-BRCA/TCGA-AA-0001-01Z-00-DX1.A.svs",
                                                      "TCGA-BRCA/TCGA-AA-0002-01A-01-TS1.B.svs"]
    assert sorted(listed(program="TCGA", experimental_strategy="Tissue Slide")) == [
        "TCGA-BRCA/TCGA-AA-0002-01A-01-TS1.B.svs"]
    assert sorted(listed(projects=["TCGA-BRCA"], data_type="Masked Somatic Mutation")) == [
        "TCGA-BRCA/TCGA-AA-0001.maf"]


def test_paging_reads_every_page(api, monkeypatch):
    for i in range(23):
        api.add(f"p-{i:02d}", f"TCGA-PG-{i:04d}.svs", b"x" * i, "TCGA-PAGE", f"TCGA-PG-{i:04d}")
    monkeypatch.setattr(gdc, "PAGE_SIZE", 5)
    files = listed(projects=["TCGA-PAGE"])
    assert len(files) == 23
    assert [r.json()["from"] for r in api.server.seen("/files")] == ["0", "5", "10", "15", "20"]


def test_a_name_listed_twice_gets_the_file_id_as_a_folder(api):
    api.add("f-7", "TCGA-AA-0001-01Z-00-DX1.A.svs", b"same name", "TCGA-BRCA", "TCGA-AA-0001")
    names = sorted(listed(projects=["TCGA-BRCA"]))
    assert "TCGA-BRCA/f-1/TCGA-AA-0001-01Z-00-DX1.A.svs" in names
    assert "TCGA-BRCA/f-7/TCGA-AA-0001-01Z-00-DX1.A.svs" in names


def test_no_files_is_a_clear_error(api):
    with pytest.raises(DownloadError, match="lists no open-access Slide Image files of TCGA-NOPE"):
        listed(projects=["TCGA-NOPE"])


def test_429_and_5xx_on_the_search_are_retried(api):
    api.throttle(2, status=429)
    api.throttle(1, status=503)
    assert len(listed(program="TCGA")) == 3


def test_the_bytes_arrive_through_the_engine_with_the_md5_check(api, tmp_path):
    remote = listed(program="TCGA")["TCGA-BRCA/TCGA-AA-0001-01Z-00-DX1.A.svs"]
    result = download(remote.url, tmp_path / "a.svs", checksums=remote.checksums, size=remote.size, quiet=True)
    assert (tmp_path / "a.svs").read_bytes() == b"slide one" and result.verified == ["md5"]


def test_a_token_lists_controlled_files_and_travels_only_to_the_gdc_host(api, monkeypatch, tmp_path):
    monkeypatch.setenv("GDC_TOKEN", TOKEN)
    api.tokens[TOKEN] = {"TCGA-LUAD"}
    files = listed(projects=["TCGA-LUAD"])
    assert sorted(files) == ["TCGA-LUAD/TCGA-LU-0003-01Z-00-DX1.C.svs", "TCGA-LUAD/TCGA-LU-0004-01Z-00-DX1.D.svs"]
    assert "files.access" not in json.dumps(api.server.seen("/files")[-1].json()["filters"])
    remote = files["TCGA-LUAD/TCGA-LU-0004-01Z-00-DX1.D.svs"]
    assert remote.headers == {"X-Auth-Token": TOKEN} and TOKEN not in repr(remote)
    download(remote.url, tmp_path / "d.svs", checksums=remote.checksums, headers=remote.headers, quiet=True)
    assert (tmp_path / "d.svs").read_bytes() == b"controlled"
    assert api.server.seen("/data/f-4")[-1].headers["x-auth-token"] == TOKEN
    assert all("x-auth-token" not in r.headers for r in api.server.seen("/files"))   # not on the search
    assert redact(f"X-Auth-Token: {TOKEN}") == "X-Auth-Token: ***"


def test_the_token_does_not_follow_a_redirect_to_storage(api, monkeypatch, tmp_path):
    monkeypatch.setenv("GDC_TOKEN", TOKEN)
    api.tokens[TOKEN] = {"TCGA-LUAD"}
    api.redirect_data_to_storage = True
    remote = listed(projects=["TCGA-LUAD"])["TCGA-LUAD/TCGA-LU-0003-01Z-00-DX1.C.svs"]
    download(remote.url, tmp_path / "c.svs", checksums=remote.checksums, headers=remote.headers, quiet=True)
    assert (tmp_path / "c.svs").read_bytes() == b"slide three"
    assert api.storage.requests and all("x-auth-token" not in r.headers for r in api.storage.requests)


def test_the_token_file(api, monkeypatch, tmp_path):
    path = tmp_path / "gdc-token.txt"
    path.write_text(TOKEN + "\n")
    path.chmod(0o600)
    monkeypatch.setenv("GDC_TOKEN_FILE", str(path))
    assert listed(projects=["TCGA-LUAD"])["TCGA-LUAD/TCGA-LU-0004-01Z-00-DX1.D.svs"].headers == {"X-Auth-Token": TOKEN}
    assert redact(f"token {TOKEN}") == "token ***"
    monkeypatch.setenv("GDC_TOKEN_FILE", str(tmp_path / "missing.txt"))
    with pytest.raises(CredentialsError, match="GDC_TOKEN_FILE names"):
        listed(projects=["TCGA-LUAD"])


def test_a_controlled_file_without_access_is_refused_with_the_servers_words(api, tmp_path):
    api.files["f-3"].served_access = "controlled"     # listed as open, served as controlled (DR13's quirk, reversed)
    remote = listed(projects=["TCGA-LUAD"])["TCGA-LUAD/TCGA-LU-0003-01Z-00-DX1.C.svs"]
    with pytest.raises(DownloadError, match="403"):
        download(remote.url, tmp_path / "c.svs", checksums=remote.checksums, quiet=True)
    assert not (tmp_path / "c.svs").exists()
