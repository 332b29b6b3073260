"""Kaggle RPC listing, redirects to storage, 403 rules, and every way credentials are found."""
from __future__ import annotations

import json
import logging
import os

import pytest
from emulators.entries import entry_yaml
from emulators.kaggle import KaggleEmulator
from helpers import assert_secrets_absent, finish, run_cli, start_cli

from histodata import credentials
from histodata.errors import AccessError, CredentialsError, UnsafeArchiveError
from histodata.http import new_session
from histodata.layout import dataset_paths
from histodata.registry.models import Source
from histodata.sources import kaggle

USER, KEY, TOKEN = "alice", "kagglekey0123456789", "KGAT_token_abcdef123456"


@pytest.fixture
def server(emulate):
    emulator = KaggleEmulator(users={USER: KEY}, tokens={TOKEN})
    emulator.competitions["panda-test"] = {"train.csv": b"image_id,isup_grade\na,1\n",
                                           "train_images/a.tiff": b"II*\x00" + b"\x01" * 5000}
    emulator.accepted["panda-test"] = {USER}
    emulator.datasets["bob/tiles"] = {f"tiles/t_{i:03d}.png": b"p%03d" % i for i in range(230)}
    return emulate(emulator)


def test_competition_files_are_listed_and_fetched_through_storage(server, monkeypatch, tmp_path):
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    files = {f.name: f for f in kaggle.list_files(Source(kind="kaggle", competition="panda-test"), new_session(), None)}
    assert set(files) == {"train.csv", "train_images/a.tiff"}
    remote = files["train_images/a.tiff"]
    assert remote.size == 5004 and remote.downloader == "kaggle"
    server.cut_once.add("a.tiff")                     # the storage connection drops halfway, once
    monkeypatch.setenv("HISTODATA_BACKOFF", "0")
    result = kaggle.download(remote, tmp_path / "a.tiff", new_session(), quiet=True)
    assert (tmp_path / "a.tiff").read_bytes() == server.competitions["panda-test"]["train_images/a.tiff"]
    assert result.size == 5004
    assert [r.headers.get("range") for r in server.storage.requests] == [None, "bytes=2502-"]   # resumed
    rpc = server.server.seen("DownloadDataFile")[0]
    assert json.loads(rpc.body) == {"competitionName": "panda-test", "fileName": "train_images/a.tiff"}
    assert rpc.headers["content-type"] == "application/json"
    assert server.storage.requests and all("authorization" not in r.headers for r in server.storage.requests)


def test_a_file_served_zipped_is_unzipped_and_checked(server, monkeypatch, tmp_path):
    monkeypatch.setenv("KAGGLE_API_TOKEN", TOKEN)
    server.accepted["panda-test"].add("token:KGAT")
    server.zipped.add("train.csv")
    files = {f.name: f for f in kaggle.list_files(Source(kind="kaggle", competition="panda-test"), new_session(), None)}
    result = kaggle.download(files["train.csv"], tmp_path / "train.csv", new_session(), quiet=True)
    assert (tmp_path / "train.csv").read_bytes() == server.competitions["panda-test"]["train.csv"]
    assert result.size == len(server.competitions["panda-test"]["train.csv"])
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["train.csv"]


def test_rules_not_accepted_gives_the_rules_url(server, monkeypatch, tmp_path):
    monkeypatch.setenv("KAGGLE_API_TOKEN", TOKEN)
    [remote, _] = kaggle.list_files(Source(kind="kaggle", competition="panda-test"), new_session(), None)
    with pytest.raises(AccessError) as info:
        kaggle.download(remote, tmp_path / "x", new_session(), quiet=True)
    message = str(info.value)
    assert "https://www.kaggle.com/competitions/panda-test/rules" in message and "403" in message
    assert TOKEN not in message


def test_dataset_listing_pages_and_version(server, monkeypatch, tmp_path):
    monkeypatch.setenv("KAGGLE_API_TOKEN", TOKEN)
    files = kaggle.list_files(Source(kind="kaggle", dataset="bob/tiles", version=3), new_session(), None)
    assert len(files) == 230 and len(server.server.seen("ListDatasetFiles")) == 2
    assert json.loads(server.server.seen("ListDatasetFiles")[0].body)["datasetVersionNumber"] == 3
    kaggle.download(files[5], tmp_path / "t.png", new_session(), quiet=True)
    assert (tmp_path / "t.png").read_bytes() == b"p005"


def test_wrong_key_is_a_credentials_error(server, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", "wrong-key-123456")
    with pytest.raises(CredentialsError) as info:
        kaggle.list_files(Source(kind="kaggle", competition="panda-test"), new_session(), None)
    assert "401" in str(info.value) and "wrong-key-123456" not in str(info.value)


def test_unknown_competition_is_404(server, monkeypatch):
    monkeypatch.setenv("KAGGLE_API_TOKEN", TOKEN)
    with pytest.raises(Exception) as info:
        kaggle.list_files(Source(kind="kaggle", competition="nope"), new_session(), None)
    assert "404" in str(info.value)


# ----------------------------------------------------------------------------- credential sources
def test_missing_credentials_name_the_variables_and_where_to_get_them():
    with pytest.raises(CredentialsError) as info:
        credentials.kaggle_headers()
    message = str(info.value)
    assert "KAGGLE_API_TOKEN" in message and "KAGGLE_USERNAME" in message and "kaggle.com/settings" in message


def test_kaggle_json_is_read_registered_and_warned_about(tmp_path, caplog):
    folder = tmp_path / "kaggle-config"          # conftest points KAGGLE_CONFIG_DIR here
    folder.mkdir(exist_ok=True)
    path = folder / "kaggle.json"
    path.write_text(json.dumps({"username": "carol", "key": "filekey-9876543210"}))
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING, logger="histodata"):
        headers = credentials.kaggle_headers()
    assert headers["Authorization"].startswith("Basic ")
    assert "readable by other users" in caplog.text and "chmod 600" in caplog.text
    from histodata.redact import redact

    assert "filekey-9876543210" not in redact("key is filekey-9876543210")


def test_access_token_file_wins_and_private_file_is_quiet(tmp_path, caplog):
    folder = tmp_path / "kaggle-config"
    folder.mkdir(exist_ok=True)
    (folder / "kaggle.json").write_text(json.dumps({"username": "carol", "key": "filekey-9876543210"}))
    token_file = folder / "access_token"
    token_file.write_text("KGAT_from_file_123456\n")
    os.chmod(token_file, 0o600)
    with caplog.at_level(logging.WARNING, logger="histodata"):
        assert credentials.kaggle_headers() == {"Authorization": "Bearer KGAT_from_file_123456"}
    assert "readable" not in caplog.text


def test_kaggle_api_token_may_be_a_path(tmp_path, monkeypatch):
    token_file = tmp_path / "tok.txt"
    token_file.write_text("KGAT_path_token_7777")
    os.chmod(token_file, 0o600)
    monkeypatch.setenv("KAGGLE_API_TOKEN", str(token_file))
    assert credentials.kaggle_headers() == {"Authorization": "Bearer KGAT_path_token_7777"}


def test_grand_challenge_and_girder_and_zenodo_variables(monkeypatch):
    monkeypatch.setenv("GRAND_CHALLENGE_AUTHORIZATION", "BEARER abc123token")
    assert credentials.grand_challenge_headers() == {"Authorization": "Bearer abc123token"}
    monkeypatch.setenv("GIRDER_API_KEY", " gk-123456 ")
    assert credentials.girder_api_key() == "gk-123456"
    monkeypatch.setenv("ZENODO_TOKEN", "zt-123456")
    assert credentials.zenodo_headers() == {"Authorization": "Bearer zt-123456"}


# ----------------------------------------------------------------------------- end to end
def test_fetch_of_custom_kaggle_entries(server, extra_registry, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    extra_registry(entry_yaml("panda-mini", {"kind": "kaggle", "competition": "panda-test"},
                              access="registration", instructions="Accept the rules on kaggle.com."))
    result = run_cli("-v", "fetch", "panda-mini", "--json")
    assert result.returncode == 0, result.stderr
    raw = dataset_paths("panda-mini").raw
    assert (raw / "train.csv").read_bytes() == server.competitions["panda-test"]["train.csv"]
    import base64

    basic = base64.b64encode(f"{USER}:{KEY}".encode()).decode()
    assert_secrets_absent([KEY, basic], result.stdout, result.stderr, root=dataset_paths("panda-mini").base)


def test_fetch_with_rules_not_accepted_prints_the_rules_url(server, extra_registry, monkeypatch):
    monkeypatch.setenv("KAGGLE_API_TOKEN", TOKEN)
    extra_registry(entry_yaml("panda-mini", {"kind": "kaggle", "competition": "panda-test"},
                              access="registration", instructions="Accept the rules on kaggle.com."))
    result = run_cli("-v", "fetch", "panda-mini")
    assert result.returncode != 0
    assert "kaggle.com/competitions/panda-test/rules" in result.stderr and TOKEN not in result.stderr


def test_a_zip_bomb_served_zipped_is_refused_and_nothing_is_left(server, monkeypatch, tmp_path):
    monkeypatch.setenv("KAGGLE_API_TOKEN", TOKEN)
    server.accepted["panda-test"].add("token:KGAT")
    server.competitions["panda-test"]["zeros.csv"] = bytes(30 << 20)    # ~30 KB zipped, 30 MB unzipped
    server.zipped.add("zeros.csv")
    files = {f.name: f for f in kaggle.list_files(Source(kind="kaggle", competition="panda-test"), new_session(), None)}
    with pytest.raises(UnsafeArchiveError, match="compression ratio"):
        kaggle.download(files["zeros.csv"], tmp_path / "zeros.csv", new_session(), quiet=True)
    # no zip, no temporary, no final name (the download engine's own lock file is its business)
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


def test_a_full_disk_while_unzipping_a_file_served_zipped_is_a_clear_error(server, extra_registry):
    server.accepted["panda-test"].add("token:KGAT")
    server.competitions["panda-test"] = {"big.csv": os.urandom(1_000_000).hex().encode()}   # 2 MB, ~1 MB zipped
    server.zipped.add("big.csv")
    extra_registry(entry_yaml("kaggle-big", {"kind": "kaggle", "competition": "panda-test"}))
    code, _, err = finish(start_cli("fetch", "kaggle-big", env={"KAGGLE_API_TOKEN": TOKEN, "HISTODATA_BACKOFF": "0"},
                                    max_file_size=1_500_000))
    assert code == 1, err
    assert "disk is full" in err and "Traceback" not in err
    raw = dataset_paths("kaggle-big").raw
    assert not raw.exists() or [p.name for p in raw.rglob("*") if p.is_file() and not p.name.endswith(".lock")] == []
