"""Mendeley Data: the public API's file listing with folders and sha256, a browser-compatible agent."""
import hashlib

import pytest

from emulators.mendeley import MendeleyEmulator
from histodata.errors import DownloadError
from histodata.http import new_session
from histodata.registry.models import Source
from histodata.sources import mendeley


@pytest.fixture
def md(emulate):
    return emulate(MendeleyEmulator())


def listed(**fields):
    return {f.name: f for f in mendeley.list_files(Source(kind="mendeley", **fields), new_session(), None)}


def test_root_and_nested_folders_with_sha256(md):
    files = {"readme.txt": b"hi", "images/benign/a.png": b"AAA", "images/malignant/a.png": b"BBBB"}
    md.add("fkw49mz3xs", files, version=3)
    remotes = listed(dataset="fkw49mz3xs")          # no version: the metadata's
    assert set(remotes) == set(files)
    remote = remotes["images/malignant/a.png"]
    assert (remote.size, remote.checksums) == (4, {"sha256": hashlib.sha256(b"BBBB").hexdigest()})
    assert new_session().get(remote.url, headers=remote.headers).content == b"BBBB"
    assert set(listed(dataset="fkw49mz3xs", version=3)) == set(files)


def test_library_user_agents_are_refused_but_ours_is_not(md):
    md.add("abc", {"a.txt": b"a"})
    refused = new_session().get("https://data.mendeley.com/public-api/datasets/abc",
                                headers={"User-Agent": "Python-urllib/3.11"})
    assert refused.status_code == 403
    assert set(listed(dataset="abc")) == {"a.txt"}


def test_without_published_sha256_files_are_unverified_and_unknown_is_an_error(md):
    md.publish_sha256 = False
    md.add("abc", {"a.txt": b"a"})
    assert listed(dataset="abc")["a.txt"].checksums == {}
    with pytest.raises(DownloadError, match="404"):
        listed(dataset="nope", version=1)
