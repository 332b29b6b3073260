"""Google Drive: folders beyond 50 files, the confirm form, error pages, against the emulator."""
from __future__ import annotations

import hashlib

import pytest
from emulators.entries import entry_yaml
from emulators.gdrive import DriveEmulator, drive_id
from helpers import run_cli

from histodata.errors import AccessError, ChecksumError
from histodata.http import new_session
from histodata.layout import dataset_paths
from histodata.registry.models import Source
from histodata.sources import gdrive

ROOT, SUB = drive_id(1, "0"), drive_id(2, "0")
BIG = bytes(range(256)) * 4096           # 1 MiB "too large to scan"


@pytest.fixture
def drive(emulate):
    emulator = DriveEmulator()
    emulator.add_folder(ROOT, "BCSS")
    emulator.add_folder(SUB, "masks", parent=ROOT)
    for i in range(60):                  # more than gdown's old 50-file cap
        emulator.add_file(drive_id(100 + i), f"img_{i:02d}.png", b"png%d" % i, folder=ROOT)
    emulator.add_file(drive_id(200), "mask & 1.png", b"mask-bytes", folder=SUB)
    emulator.add_file(drive_id(300), "big.zip", BIG, mode="large")
    emulator.add_file(drive_id(301), "busy.zip", b"busy", mode="quota")
    emulator.add_file(drive_id(302), "private.zip", b"private", mode="private")
    emulator.add_file(drive_id(303), "keyed.zip", b"keyed", resource_key="0-AbCdEfGh")
    emulator.add_file(drive_id(304), "old.zip", b"old-flow" * 100, mode="legacy")
    return emulate(emulator)


def test_folder_listing_is_recursive_and_not_capped_at_50(drive):
    files = gdrive.list_files(Source(kind="gdrive", folder=ROOT), new_session(), None)
    names = [f.name for f in files]
    assert len(names) == 61
    assert "masks/mask & 1.png" in names and "img_59.png" in names
    assert all(f.downloader == "gdrive" and f.url.startswith("https://drive.google.com/uc?id=") for f in files)


def test_small_file_downloads_through_the_redirect_and_pinned_md5(drive, tmp_path):
    md5 = hashlib.md5(b"mask-bytes").hexdigest()
    source = Source(kind="gdrive", file=drive_id(200), files=[{"name": "m.png", "md5": md5}])
    [remote] = gdrive.list_files(source, new_session(), None)
    assert remote.name == "m.png" and remote.checksums == {"md5": md5}
    result = gdrive.download(remote, tmp_path / "m.png", new_session(), quiet=True)
    assert (tmp_path / "m.png").read_bytes() == b"mask-bytes" and result.verified == ["md5"]


def test_virus_scan_form_is_followed_and_name_probed(drive, tmp_path):
    [remote] = gdrive.list_files(Source(kind="gdrive", file=drive_id(300)), new_session(), None)
    assert remote.name == "big.zip"
    result = gdrive.download(remote, tmp_path / "big.zip", new_session(), quiet=True)
    assert (tmp_path / "big.zip").read_bytes() == BIG
    assert result.hashes["sha256"] == hashlib.sha256(BIG).hexdigest()
    confirmed = [r for r in drive.server.seen("/usercontent/download") if r.query.get("confirm") == "t"]
    assert confirmed and confirmed[-1].query["uuid"] == drive.files[drive_id(300)].confirm_uuid


def test_old_confirm_link_with_cookie_is_followed(drive, tmp_path):
    source = Source(kind="gdrive", file=drive_id(304), files=[{"name": "old.zip"}])
    [remote] = gdrive.list_files(source, new_session(), None)
    gdrive.download(remote, tmp_path / "old.zip", new_session(), quiet=True)
    assert (tmp_path / "old.zip").read_bytes() == b"old-flow" * 100


def test_wrong_pinned_checksum_is_refused(drive, tmp_path):
    source = Source(kind="gdrive", file=drive_id(200), files=[{"name": "m.png", "md5": "0" * 32}])
    [remote] = gdrive.list_files(source, new_session(), None)
    with pytest.raises(ChecksumError):
        gdrive.download(remote, tmp_path / "m.png", new_session(), quiet=True)
    assert not (tmp_path / "m.png").exists()


def test_quota_page_says_wait_mirror_or_from(drive, tmp_path):
    source = Source(kind="gdrive", file=drive_id(301), files=[{"name": "busy.zip"}])
    [remote] = gdrive.list_files(source, new_session(), None)
    with pytest.raises(AccessError) as info:
        gdrive.download(remote, tmp_path / "busy.zip", new_session(), quiet=True)
    message = str(info.value)
    assert "quota" in message and "24 hours" in message and "--from" in message and "MIRRORS" in message


def test_private_file_says_sign_in_and_browser(drive, tmp_path):
    source = Source(kind="gdrive", file=drive_id(302), files=[{"name": "private.zip"}])
    [remote] = gdrive.list_files(source, new_session(), None)
    with pytest.raises(AccessError) as info:
        gdrive.download(remote, tmp_path / "p.zip", new_session(), quiet=True)
    assert "sign in" in str(info.value) and "browser" in str(info.value)


def test_resource_key_travels(drive, tmp_path):
    source = Source(kind="gdrive", file=drive_id(303), resource_key="0-AbCdEfGh", files=[{"name": "k.zip"}])
    [remote] = gdrive.list_files(source, new_session(), None)
    gdrive.download(remote, tmp_path / "k.zip", new_session(), quiet=True)
    assert (tmp_path / "k.zip").read_bytes() == b"keyed"


def test_unknown_folder_is_a_clear_error(drive):
    with pytest.raises(Exception) as info:
        gdrive.list_files(Source(kind="gdrive", folder=drive_id(999, "0")), new_session(), None)
    assert "404" in str(info.value)


def test_legacy_folder_page_is_parsed():
    page = ("<script>window['_DRIVE_ivd'] = '[[[\\x22" + drive_id(5) + "\\x22,[],\\x22a.png\\x22,"
            "\\x22image/png\\x22],[\\x22" + drive_id(6, "0") + "\\x22,[],\\x22sub\\x22,"
            "\\x22application/vnd.google-apps.folder\\x22]]]';</script>")
    assert gdrive.legacy_children(page) == [(drive_id(5), "a.png", False), (drive_id(6, "0"), "sub", True)]


def test_fetch_of_a_custom_drive_folder_entry(drive, extra_registry):
    md5 = hashlib.md5(b"mask-bytes").hexdigest()
    extra_registry(entry_yaml("drive-folder", {"kind": "gdrive", "folder": ROOT,
                                               "files": [{"name": "masks/mask & 1.png", "md5": md5}]}))
    extra_registry(entry_yaml("drive-big", {"kind": "gdrive", "file": drive_id(300)}))
    result = run_cli("-v", "fetch", "drive-folder", "--json")
    assert result.returncode == 0, result.stderr
    raw = dataset_paths("drive-folder").raw
    assert (raw / "masks" / "mask & 1.png").read_bytes() == b"mask-bytes"
    assert len([p for p in raw.rglob("*.png")]) == 61
    big = run_cli("fetch", "drive-big", "--json")
    assert big.returncode == 0, big.stderr
    assert (dataset_paths("drive-big").raw / "big.zip").read_bytes() == BIG


def test_fetch_refused_by_quota_says_what_to_do(drive, extra_registry):
    extra_registry(entry_yaml("drive-busy", {"kind": "gdrive", "file": drive_id(301),
                                             "files": [{"name": "busy.zip"}]}))
    result = run_cli("fetch", "drive-busy")
    assert result.returncode != 0
    assert "quota" in result.stderr and "--from" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("served, expected", [
    ("", None), ("  ", None), ("..", None),            # nothing usable: the file id
    ("../../outside/evil.zip", "evil.zip"),           # a path: only its last part
])
def test_an_empty_or_unsafe_served_name_falls_back_to_the_file_id(drive, tmp_path, served, expected):
    file_id = drive_id(400)
    drive.add_file(file_id, served, b"nameless bytes")
    [remote] = gdrive.list_files(Source(kind="gdrive", file=file_id), new_session(), None)
    assert remote.name == (expected or file_id)
    gdrive.download(remote, tmp_path / remote.name, new_session(), quiet=True)
    assert (tmp_path / remote.name).read_bytes() == b"nameless bytes"


@pytest.mark.parametrize("header, name", [
    ('attachment; filename=""', None), ("attachment; filename*=UTF-8''; filename=\"\"", None),
    ("attachment; filename*=UTF-8''%2E%2E", None), ('attachment; filename="a\\\\b.png"', "b.png"),
    ("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf; filename=\"x.pdf\"", "résumé.pdf"),
])
def test_disposition_names_are_reduced_to_a_usable_base_name(header, name):
    assert gdrive.filename_from_disposition(header) == name
