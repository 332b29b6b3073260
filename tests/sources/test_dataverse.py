"""Dataverse: :persistentId, folders, checksum types, ingested tabular files as originals, errors."""
import hashlib

import pytest

from emulators.dataverse import DataverseEmulator
from histodata.errors import AccessError, DownloadError
from histodata.http import new_session
from histodata.registry.models import Source
from histodata.sources import dataverse

DOI = "10.7910/DVN/A50I2T"


@pytest.fixture
def dv(emulate):
    return emulate(DataverseEmulator())


def listed(doi=DOI, **fields):
    source = Source(kind="dataverse", server="https://dataverse.harvard.edu", doi=doi, **fields)
    return {f.name: f for f in dataverse.list_files(source, new_session(), None)}


def test_files_keep_their_folders_and_checksum_types(dv):
    dv.add(DOI, dv.file("a.svs", b"slide", directory="slides/train"),
           dv.file("b.txt", b"text", algorithm="SHA-1"), dv.file("c.bin", b"bin", algorithm="SHA-256"))
    remotes = listed()
    assert remotes["slides/train/a.svs"].checksums == {"md5": hashlib.md5(b"slide").hexdigest()}
    assert remotes["b.txt"].checksums == {"sha1": hashlib.sha1(b"text").hexdigest()}
    assert remotes["c.bin"].checksums == {"sha256": hashlib.sha256(b"bin").hexdigest()}
    assert new_session().get(remotes["slides/train/a.svs"].url).content == b"slide"


@pytest.mark.parametrize("doi", [DOI, f"doi:{DOI}", f"https://doi.org/{DOI}"])
def test_doi_forms_and_explicit_version(dv, doi):
    dv.add(DOI, dv.file("a.txt", b"a"))
    assert set(listed(doi)) == {"a.txt"}
    assert set(listed(doi, version=":latest")) == {"a.txt"}


def test_tabular_files_come_as_the_original_with_its_size_and_checksum(dv):
    original = b"id,label\n1,tumor\n2,normal\n"
    dv.add(DOI, dv.file("labels.tab", b"id\tlabel\n1\ttumor\n2\tnormal\n", original=original,
                        original_name="labels.csv"))
    remote = listed()["labels.csv"]
    assert remote.size == len(original)
    assert remote.checksums == {"md5": hashlib.md5(original).hexdigest()}
    assert "format=original" in remote.url
    assert new_session().get(remote.url).content == original


def test_restricted_files_and_unknown_datasets(dv):
    dv.add(DOI, dv.file("open.txt", b"a"), dv.file("secret.txt", b"b", restricted=True))
    with pytest.raises(AccessError, match="restricted"):
        listed()
    with pytest.raises(DownloadError, match="404.*not found"):
        listed("10.7910/DVN/NOPE")
