"""Zenodo: every JSON shape, versions/latest, concept ids, 429 + Retry-After, the token header."""
import hashlib

import pytest

from emulators.doi import DoiResolver
from emulators.zenodo import ZenodoEmulator
from histodata.errors import AccessError
from histodata.http import new_session
from histodata.registry.models import Source
from histodata.sources import zenodo

FILES = {"tiles.zip": b"zip bytes " * 1000, "labels.csv": b"id,label\n1,tumor\n"}


@pytest.fixture
def emulator(emulate, monkeypatch):
    zen, doi = emulate(ZenodoEmulator(), DoiResolver())
    zen.doi = doi
    monkeypatch.setenv("HISTODATA_BACKOFF", "0.01")
    return zen


def listed(record: str, **fields):
    source = Source(kind="zenodo", record=record, **fields)
    return {f.name: f for f in zenodo.list_files(source, new_session(), None)}


@pytest.mark.parametrize("shape", ["key", "filename", "entries", "legacy", "listing"])
def test_every_files_shape_lists_names_sizes_md5_and_a_working_url(emulator, shape):
    emulator.add("1001", FILES, shape=shape)
    files = listed("1001")
    assert set(files) == set(FILES)
    session = new_session()
    for name, data in FILES.items():
        remote = files[name]
        assert remote.size == len(data)
        assert remote.checksums == {"md5": hashlib.md5(data).hexdigest()}
        assert remote.checksum_origin == "provider"
        assert session.get(remote.url).content == data


def test_record_without_checksums_is_unverified(emulator):
    emulator.add("1002", FILES, checksums=False)
    remote = listed("1002")["labels.csv"]
    assert remote.checksums == {} and remote.verified_by == "size only (unverified)"


def test_versions_latest_follows_to_the_newest_version(emulator):
    emulator.add("2001", {"a.txt": b"old"}, concept="2000")
    emulator.add("2002", {"a.txt": b"new!"}, concept="2000")
    assert listed("2001")["a.txt"].size == 3
    assert listed("2001", version="latest")["a.txt"].size == 4


def test_concept_id_that_404s_resolves_through_versions_latest(emulator):
    emulator.add("2002", {"a.txt": b"new!"}, concept="2000")
    assert listed("2000")["a.txt"].size == 4
    assert emulator.server.seen("/api/records/2000/versions/latest")


def test_concept_id_resolves_through_its_doi_when_the_api_has_nothing(emulator):
    emulator.concept_latest = False
    emulator.add("2002", {"a.txt": b"new!"}, concept="2000")
    emulator.doi.add("10.5281/zenodo.2000", "https://zenodo.org/records/2002")
    assert listed("2000")["a.txt"].size == 4


def test_429_with_retry_after_is_waited_for_then_succeeds(emulator):
    emulator.add("3001", FILES)
    emulator.retry_after = "0"
    emulator.throttle(2)
    assert set(listed("3001")) == set(FILES)
    statuses = [r.path for r in emulator.server.requests]
    assert statuses.count("/api/records/3001") == 3  # two 429s, then the record


def test_token_travels_only_in_the_authorization_header(emulator, monkeypatch):
    emulator.add("4001", FILES, restricted=True, token="zenodo-secret-token")
    with pytest.raises(AccessError, match="restricted"):
        listed("4001")
    monkeypatch.setenv("ZENODO_TOKEN", "zenodo-secret-token")
    files = listed("4001")
    assert files["tiles.zip"].headers == {"Authorization": "Bearer zenodo-secret-token"}
    assert "zenodo-secret-token" not in files["tiles.zip"].url
    for request in emulator.server.requests:
        assert "access_token" not in request.query


def test_unknown_record_is_a_clear_error(emulator):
    from histodata.errors import DownloadError

    with pytest.raises(DownloadError, match="9999"):
        listed("9999")


@pytest.mark.parametrize("value, expected", [("md5:ABC", {"md5": "abc"}), ("abc", {"md5": "abc"}),
                                             ("sha256:ff", {"sha256": "ff"}), ("adler32:1234", {}),
                                             (None, {})])
def test_checksum_forms(value, expected):
    assert zenodo.parse_checksum(value) == expected
