"""FTP sources (GigaDB's FTP mirror): the same verify-and-rename path, resumed with REST."""
from __future__ import annotations

import pytest
from servers.ftp import FTPServer

from histodata.errors import ChecksumError, DownloadError, OfflineError
from histodata.transfer import download

from .conftest import leftovers, md5, payload
from .test_nginx import interrupt_after

DATA = payload(2 << 20, seed=3)
ORIGIN = "ftp://parrot.genomics.cn/gigadb/pub"


@pytest.fixture
def ftp_pair(tmp_path, monkeypatch):
    """A throttled and a fast FTP server on the same folder; `use(server)` points the mirror map at one."""
    root = tmp_path / "ftp-root"
    root.mkdir()
    (root / "a.bin").write_bytes(DATA)
    with FTPServer(root, rate=512 * 1024) as slow, FTPServer(root) as fast:
        def use(server):
            monkeypatch.setenv("HISTODATA_MIRRORS", f"ftp://parrot.genomics.cn/gigadb/pub={server.url}")
        use(fast)
        yield slow, fast, use


def test_ftp_download_is_verified(ftp_pair, tmp_path):
    target = tmp_path / "out" / "a.bin"
    result = download(f"{ORIGIN}/a.bin", target, {"md5": md5(DATA)}, len(DATA), quiet=True)
    assert result.path.read_bytes() == DATA and result.verified == ["md5"]
    assert leftovers(tmp_path / "out") == ["a.bin"]


def test_ftp_resumes_with_rest_after_an_interruption(ftp_pair, tmp_path):
    slow, fast, use = ftp_pair
    target = tmp_path / "out" / "a.bin"
    use(slow)
    error = interrupt_after(lambda cancel: download(f"{ORIGIN}/a.bin", target, {"md5": md5(DATA)},
                                                    quiet=True, cancel=cancel), target.parent, 300_000)
    assert isinstance(error, KeyboardInterrupt) and not target.exists()
    use(fast)
    result = download(f"{ORIGIN}/a.bin", target, {"md5": md5(DATA)}, quiet=True)
    assert result.resumed_from >= 300_000 and target.read_bytes() == DATA


def test_ftp_wrong_checksum_and_missing_file(ftp_pair, tmp_path):
    with pytest.raises(ChecksumError, match="md5 expected"):
        download(f"{ORIGIN}/a.bin", tmp_path / "a.bin", {"md5": "1" * 32}, quiet=True)
    with pytest.raises(DownloadError, match="550"):
        download(f"{ORIGIN}/nope.bin", tmp_path / "nope.bin", quiet=True)
    assert not (tmp_path / "a.bin").exists()


@pytest.mark.parametrize("scheme_url", [f"{ORIGIN}/a.bin", "https://data.example.org/a.bin"])
def test_offline_mode_refuses_every_scheme_and_leaves_nothing(ftp_pair, tmp_path, monkeypatch, scheme_url):
    monkeypatch.setenv("HISTODATA_OFFLINE", "1")
    with pytest.raises(OfflineError, match="HISTODATA_OFFLINE"):
        download(scheme_url, tmp_path / "out" / "a.bin", quiet=True)
    assert leftovers(tmp_path / "out") == []
