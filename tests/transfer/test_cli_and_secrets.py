"""`histodata download` on the command line; secrets never reach output, logs or errors."""
from __future__ import annotations

import json
import logging

import pytest

from histodata.errors import DownloadError
from histodata.transfer import download

from .conftest import md5, payload, run_cli

TOKEN = "zen-Secret-Token-0123456789"
DATA = payload(100_000, seed=5)


def test_cli_json_report(fault_server, tmp_path):
    url = fault_server.add("/a.bin", DATA)
    result = run_cli("download", url, "-o", str(tmp_path / "a.bin"), "--md5", md5(DATA), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["size"] == len(DATA) and report["verified"] == ["md5"] and report["resumed_from"] == 0
    assert report["path"] == str(tmp_path / "a.bin")


def test_cli_error_is_one_paragraph_without_traceback(fault_server, tmp_path):
    url = fault_server.add("/a.bin", DATA)
    result = run_cli("download", url, "-o", str(tmp_path / "a.bin"), "--sha256", "0" * 64)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: a.bin from ") and "sha256 expected 000" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_auth_header_never_appears_in_verbose_output_or_errors(fault_server, tmp_path):
    page = f"<html><head><title>Denied for {TOKEN}</title></head></html>".encode()
    fault_server.add("/denied", page, content_type="text/html")
    ok = fault_server.add("/a.bin", DATA)
    for url, expected_code in ((ok, 0), (fault_server.url + "/denied", 1),
                               (f"{fault_server.url}/missing?token=x", 1)):
        result = run_cli("-v", "download", url, "-o", str(tmp_path / "out.bin"),
                         "--header", f"Authorization: Bearer {TOKEN}", "--json")
        assert result.returncode == expected_code, result.stderr
        assert TOKEN not in result.stdout + result.stderr
        assert "DEBUG" in result.stderr  # the verbose log was really on
    sent = [entry["headers"].get("Authorization") for entry in fault_server.log]
    assert sent == [f"Bearer {TOKEN}"] * 3  # the header did travel, only to the server


def test_api_errors_and_logs_redact_header_values(fault_server, tmp_path, caplog):
    page = f"<html><head><title>Login as {TOKEN}</title></head><input type=\"password\"></html>".encode()
    url = fault_server.add("/login", page, content_type="text/html")
    with caplog.at_level(logging.DEBUG, logger="histodata"), pytest.raises(DownloadError) as caught:
        download(url, tmp_path / "x.bin", headers={"Girder-Token": TOKEN}, quiet=True)
    assert "login page" in str(caught.value) and TOKEN not in str(caught.value)
    assert TOKEN not in caplog.text
    assert not list(tmp_path.glob("*.json"))  # no sidecar kept, and none would hold headers


def test_sidecar_holds_no_credentials(fault_server, tmp_path):
    url = fault_server.add("/a.bin", DATA, ["drop:5000"] + ["status:503"] * 3)
    with pytest.raises(DownloadError):
        download(url, tmp_path / "a.bin", headers={"Authorization": f"Bearer {TOKEN}"}, quiet=True)
    (sidecar,) = tmp_path.glob(".a.bin.*.partial.json")
    assert TOKEN not in sidecar.read_text() and json.loads(sidecar.read_text())["url"] == url


def test_unwritable_target_folder_is_a_clear_error(fault_server, tmp_path):
    url = fault_server.add("/a.bin", DATA)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli("download", url, "-o", str(blocker / "a.bin"))
    assert result.returncode == 1 and "cannot write in" in result.stderr and "Traceback" not in result.stderr


def test_cli_output_may_be_a_folder(fault_server, tmp_path):
    url = fault_server.add("/files/slide%20one.bin", DATA)
    folder = tmp_path / "existing"
    folder.mkdir()
    result = run_cli("download", url, "-o", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    assert (folder / "slide one.bin").read_bytes() == DATA
    fresh = run_cli("download", url, "-o", f"{tmp_path / 'new'}/")            # a folder yet to exist
    assert fresh.returncode == 0, fresh.stderr
    assert (tmp_path / "new" / "slide one.bin").read_bytes() == DATA and not (tmp_path / "new").is_file()
    nameless = run_cli("download", url.rsplit("/", 1)[0] + "/", "-o", str(folder))
    assert nameless.returncode == 1 and "names no file" in nameless.stderr

