"""figshare: paging (10 a page by default, capped), folders, versions, collections, link-only files,
the ndownloader host form, and the WAF's empty 202 refused."""
import hashlib

import pytest

from emulators.figshare import FigshareEmulator
from histodata.errors import AccessError, DownloadError
from histodata.http import new_session
from histodata.registry.models import Source
from histodata.sources import figshare
from histodata.sources.base import api_get


@pytest.fixture
def fig(emulate):
    return emulate(FigshareEmulator())


def listed(**fields):
    return {f.name: f for f in figshare.list_files(Source(kind="figshare", **fields), new_session(), None)}


@pytest.mark.parametrize("cap", [10, 7, 1000])
def test_every_page_is_read_whatever_page_size_the_server_allows(fig, cap):
    fig.max_page_size = cap
    files = {f"tile_{i:03d}.png": f"png {i}".encode() for i in range(25)}
    article = fig.add_article(files)
    remotes = listed(article=article.id)
    assert set(remotes) == set(files)
    assert remotes["tile_007.png"].checksums == {"md5": hashlib.md5(b"png 7").hexdigest()}
    assert remotes["tile_007.png"].url.startswith("https://ndownloader.figshare.com/files/")


def test_a_server_that_pages_only_by_offset_is_read_completely(fig):
    fig.offset_only = True
    files = {f"f{i:02d}.bin": b"x" for i in range(23)}
    article = fig.add_article(files)
    assert set(listed(article=article.id)) == set(files)


def test_folder_structure_keeps_paths_and_same_names_apart(fig):
    article = fig.add_article({"train/a.png": b"1", "test/a.png": b"22"})
    remotes = listed(article=article.id)
    assert {n: r.size for n, r in remotes.items()} == {"train/a.png": 1, "test/a.png": 2}


def test_two_files_of_one_name_in_an_article_both_keep_their_bytes(fig):
    article = fig.add_article({"a/x.png": b"1", "b/x.png": b"22"})
    for f in article.files:
        f.folder = ""                                  # same name, same (root) folder
    remotes = listed(article=article.id)
    assert sorted(remotes) == sorted(f"x.{f.id}.png" for f in article.files)
    assert {r.size for r in remotes.values()} == {1, 2}


def test_versions_and_collections(fig):
    first = fig.add_article({"a.txt": b"v1"})
    fig.add_version(first.id, 2, {"a.txt": b"v2!!"})
    assert listed(article=first.id, version=1)["a.txt"].size == 2
    assert listed(article=first.id)["a.txt"].size == 4
    second = fig.add_article({"a.txt": b"other"})
    fig.max_page_size = 1
    fig.add_collection(77, [first.id, second.id])
    remotes = listed(collection=77)
    assert set(remotes) == {f"{first.id}/a.txt", f"{second.id}/a.txt"}


def test_link_only_files_have_no_size_and_no_checksum(fig):
    article = fig.add_article({"data.bin": b"x" * 10, "elsewhere.zip": b"external"},
                              link_only={"elsewhere.zip"})
    remote = listed(article=article.id)["elsewhere.zip"]
    assert (remote.size, remote.checksums) == (None, {})
    assert remote.url.startswith("https://external.example.org/")
    assert new_session().get(remote.url).content == b"external"


def test_waf_guarded_download_urls_move_to_the_ndownloader_host(fig):
    fig.www_download_urls = True
    article = fig.add_article({"a.bin": b"abc"})
    remote = listed(article=article.id)["a.bin"]
    assert remote.url.startswith("https://ndownloader.figshare.com/files/")
    assert new_session().get(remote.url).content == b"abc"


def test_an_empty_202_challenge_is_refused_not_taken_for_a_document(fig):
    with pytest.raises(DownloadError, match="202.*bot challenge"):
        api_get(new_session(), "https://figshare.com/ndownloader/files/1", what="figshare file")


def test_embargoed_article_is_an_access_problem_and_unknown_is_404(fig):
    article = fig.add_article({"a.bin": b"abc"}, embargoed=True)
    with pytest.raises(AccessError, match="embargoed"):
        listed(article=article.id)
    with pytest.raises(DownloadError, match="404"):
        listed(article=1)
