"""Safe extraction: hostile archives are refused with one clear error naming the member."""
from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from histodata import archives
from histodata.errors import HistodataError, UnsafeArchiveError

pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name")


def make_zip(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def make_tar(path, add, mode="w:gz"):
    with tarfile.open(path, mode) as tf:
        add(tf)
    return path


def tar_file(tf, name, data=b"x"):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil.txt", "C:/evil.txt", "a/../../evil.txt",
                                  "..\\evil.txt"])
def test_zip_with_escaping_names_is_refused(tmp_path, name):
    archive = make_zip(tmp_path / "a.zip", {"ok.txt": b"fine", name: b"evil"})
    with pytest.raises(UnsafeArchiveError, match="member") as err:
        archives.extract(archive, tmp_path / "out")
    assert repr(name) in str(err.value)
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "out" / "ok.txt").exists()  # nothing extracted at all


def test_zip_symlink_outside_is_refused(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "../../outside")
    with pytest.raises(UnsafeArchiveError, match="link pointing outside"):
        archives.extract(archive, tmp_path / "out")


def test_zip_symlink_inside_becomes_a_link(tmp_path):
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("d/real.txt", b"data")
        info = zipfile.ZipInfo("d/alias.txt")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "real.txt")
    archives.extract(archive, tmp_path / "out")
    assert os.path.islink(tmp_path / "out" / "d" / "alias.txt")
    assert (tmp_path / "out" / "d" / "alias.txt").read_bytes() == b"data"


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_tar_links_outside_are_refused(tmp_path, kind):
    def add(tf):
        tar_file(tf, "ok.txt")
        info = tarfile.TarInfo("escape")
        info.type = tarfile.SYMTYPE if kind == "symlink" else tarfile.LNKTYPE
        info.linkname = "../../etc/passwd" if kind == "symlink" else "../outside"
        tf.addfile(info)

    archive = make_tar(tmp_path / "a.tar.gz", add)
    with pytest.raises(UnsafeArchiveError, match="'escape'"):
        archives.extract(archive, tmp_path / "out")


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_tar_device_files_are_refused(tmp_path, kind):
    def add(tf):
        info = tarfile.TarInfo("dev/thing")
        info.type = kind
        tf.addfile(info)

    archive = make_tar(tmp_path / "a.tar", add, mode="w")
    with pytest.raises(UnsafeArchiveError, match="device file"):
        archives.extract(archive, tmp_path / "out")


def test_tar_absolute_path_is_refused(tmp_path):
    archive = make_tar(tmp_path / "a.tar.bz2", lambda tf: tar_file(tf, "/abs/evil.txt"), mode="w:bz2")
    with pytest.raises(UnsafeArchiveError, match="absolute path"):
        archives.extract(archive, tmp_path / "out")


def test_zip_bomb_ratio_is_refused_and_limit_can_be_raised(tmp_path, monkeypatch):
    archive = make_zip(tmp_path / "bomb.zip", {"zeros.bin": b"\0" * (20 << 20)})
    assert archive.stat().st_size < 100_000
    with pytest.raises(UnsafeArchiveError, match="compression ratio"):
        archives.extract(archive, tmp_path / "out")
    monkeypatch.setenv("HISTODATA_ARCHIVE_MAX_RATIO", "100000")
    assert archives.extract(archive, tmp_path / "out").changed
    assert (tmp_path / "out" / "zeros.bin").stat().st_size == 20 << 20


def test_total_size_limit(tmp_path):
    archive = make_zip(tmp_path / "big.zip", {"a": os.urandom(3000), "b": os.urandom(3000)}, zipfile.ZIP_STORED)
    with pytest.raises(UnsafeArchiveError, match="'b'.*5000 bytes"):
        archives.extract(archive, tmp_path / "out", limits=archives.Limits(max_bytes=5000))


def test_lying_zip_size_is_caught(tmp_path):
    archive = make_zip(tmp_path / "lie.zip", {"f.txt": b"A" * 5000})
    data = bytearray(archive.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")  # claim 10 bytes uncompressed
    archive.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchiveError):
        archives.extract(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "f.txt").exists()


@pytest.mark.parametrize("suffix,mode", [(".tar", "w"), (".tar.gz", "w:gz"), (".tgz", "w:gz"),
                                         (".tar.bz2", "w:bz2"), (".tar.xz", "w:xz")])
def test_tar_variants_extract_and_are_idempotent(tmp_path, suffix, mode):
    archive = make_tar(tmp_path / f"data{suffix}", lambda tf: tar_file(tf, "top/a/b.txt", b"hello"), mode=mode)
    first = archives.extract(archive, tmp_path / "out", sha256="ab" * 32)
    assert first.changed and first.tops == ("top",)
    assert (tmp_path / "out" / "top" / "a" / "b.txt").read_bytes() == b"hello"
    (tmp_path / "out" / "top" / "a" / "b.txt").write_bytes(b"changed")
    assert not archives.extract(archive, tmp_path / "out", sha256="ab" * 32).changed
    assert (tmp_path / "out" / "top" / "a" / "b.txt").read_bytes() == b"changed"  # untouched: nothing new
    assert archives.extract(archive, tmp_path / "out", sha256="cd" * 32).changed  # another archive version


def test_wrap_loose_keeps_archives_apart(tmp_path):
    a = make_zip(tmp_path / "train.zip", {"ADI/1.png": b"1", "TUM/2.png": b"3"})
    b = make_zip(tmp_path / "test.zip", {"ADI/1.png": b"2", "TUM/2.png": b"4"})
    assert archives.extract(a, tmp_path / "out", wrap_loose=True).folder == tmp_path / "out" / "train"
    archives.extract(b, tmp_path / "out", wrap_loose=True)
    assert (tmp_path / "out" / "train" / "ADI" / "1.png").read_bytes() == b"1"
    assert (tmp_path / "out" / "test" / "ADI" / "1.png").read_bytes() == b"2"


def test_no_temporary_folder_is_left_after_a_failure(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"ok.txt": b"x" * 100})
    data = bytearray(archive.read_bytes())
    local = data.find(b"ok.txt") + len(b"ok.txt")
    data[local:local + 5] = b"\xff" * 5   # corrupt the deflate stream
    archive.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchiveError):
        archives.extract(archive, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == []


def test_gunzip_once(tmp_path):
    import gzip

    source = tmp_path / "x.h5.gz"
    source.write_bytes(gzip.compress(b"payload" * 100))
    assert archives.gunzip(source, tmp_path / "out" / "x.h5")
    assert (tmp_path / "out" / "x.h5").read_bytes() == b"payload" * 100
    assert not archives.gunzip(source, tmp_path / "out" / "x.h5")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".zip", ".tar", ".tar.gz", ".tar.xz"]))
def test_garbage_archives_give_a_clear_error(tmp_path, data, suffix):
    archive = tmp_path / f"junk{suffix}"
    archive.write_bytes(data)
    try:
        archives.extract(archive, tmp_path / "out")
    except HistodataError as err:
        assert str(err)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(alphabet="ab./\\:\x00C", min_size=1, max_size=8), min_size=1, max_size=4))
def test_hostile_names_never_escape(tmp_path, names):
    target = tmp_path / "target" / "inner"
    archive = tmp_path / "n.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in names:
            try:
                zf.writestr(name, b"x")
            except Exception:  # zipfile itself refuses some names: nothing to test then
                return
    try:
        archives.extract(archive, target)
    except HistodataError:
        pass
    for root, dirs, files in os.walk(tmp_path):
        for name in files + dirs:
            path = os.path.realpath(os.path.join(root, name))
            assert path.startswith(str(target.resolve())) or path in (str(archive), str(tmp_path / "target")), path
