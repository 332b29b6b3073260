"""Hostile server answers through `histodata fetch`: file names from servers (Girder names, Drive
names and Content-Disposition, Zenodo keys, S3 keys) with `..`, absolute paths, drive letters, NUL
and control characters land only under <root>/<id>/raw/; a redirect to another host never carries
the token (Authorization, Girder-Token, Kaggle basic auth); HTML, WAF and empty answers are errors
that keep no file under its final name."""
from __future__ import annotations

import json

import re

import pytest
from emulators.entries import entry_yaml
from emulators.gdrive import DriveEmulator, drive_id
from emulators.girder import API as GIRDER_API
from emulators.girder import GirderEmulator
from emulators.kaggle import KaggleEmulator
from emulators.service import EmulatorServer, Reply, file_reply
from emulators.zenodo import ZenodoEmulator

from histodata.layout import dataset_paths

from .hostile import cli, files_under, snapshot, written_between

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
STORAGE = "https://storage.example.net"
HOSTILE_NAMES = ["../../../../escape-dotdot.txt", "/abs/escape-absolute.txt", "C:\\win\\escape-drive.txt",
                 "..\\..\\escape-backslash.txt", "nul\x00byte.txt", "ansi\x1b[31mred\x07bell.txt"]


@pytest.fixture(autouse=True)
def fast_failures(monkeypatch):
    monkeypatch.setenv("HISTODATA_BACKOFF", "0")
    monkeypatch.setenv("HISTODATA_RETRIES", "1")


def fetch_checked(tmp_path, dataset_id: str, *args, monkeypatch=None, env=None):
    """`histodata fetch` with a snapshot: nothing may be written outside <root>/<id>/ (the
    registry index cache aside), no written path may hold a control character."""
    paths = dataset_paths(dataset_id)
    paths.root.mkdir(parents=True, exist_ok=True)
    cache = tmp_path / "cache"
    before = snapshot(tmp_path, paths.base, cache)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    result = cli("-v", "fetch", dataset_id, *args)
    assert written_between(before, snapshot(tmp_path, paths.base, cache)) == []
    assert "Traceback" not in result.stderr
    for path in paths.base.rglob("*"):
        assert not CONTROL.search(str(path.relative_to(paths.base))), repr(path)
    return result


def raw_contents(dataset_id: str) -> dict[str, bytes]:
    raw = dataset_paths(dataset_id).raw
    return {p.relative_to(raw).as_posix(): p.read_bytes() for p in files_under(raw) if not p.name.startswith(".")}


# ----------------------------------------------------------------------------- names from servers
def test_girder_folder_item_and_file_names_cannot_escape(tmp_path, extra_registry, emulate):
    girder = emulate(GirderEmulator())
    top = girder.folder(girder.collection("data"), "top")
    contents = {}
    for i, name in enumerate(HOSTILE_NAMES):
        data = f"file {i}".encode()
        contents[data] = name
        girder.item(girder.folder(top, name), name, {name: data})    # folder, item and file all hostile
    extra_registry(entry_yaml("girder-names", {"kind": "girder", "api_url": GIRDER_API, "folder": top.id}))
    result = fetch_checked(tmp_path, "girder-names", "--json")
    assert result.returncode == 0, result.stderr
    landed = raw_contents("girder-names")
    assert sorted(landed.values()) == sorted(contents)          # every file, each once, all under raw/
    assert "escape-dotdot.txt" in {name.rsplit("/", 1)[-1] for name in landed}


@pytest.mark.parametrize("name", ["..", ".", "/", "\x00"])
def test_a_girder_name_with_nothing_usable_is_a_clear_error(tmp_path, extra_registry, emulate, name):
    girder = emulate(GirderEmulator())
    top = girder.folder(girder.collection("data"), "top")
    girder.item(top, name, {name: b"bytes"})
    extra_registry(entry_yaml("girder-dots", {"kind": "girder", "api_url": GIRDER_API, "folder": top.id}))
    result = fetch_checked(tmp_path, "girder-dots")
    assert result.returncode == 1 and "unusable file name" in result.stderr
    assert raw_contents("girder-dots") == {}


def test_drive_names_and_content_disposition_cannot_escape(tmp_path, extra_registry, emulate):
    drive = emulate(DriveEmulator())
    drive.add_folder(drive_id(1, "0"), "../../..")
    drive.add_folder(drive_id(2, "0"), "/etc", parent=drive_id(1, "0"))
    drive.add_file(drive_id(10), "../../../../escape-dotdot.png", b"one", folder=drive_id(1, "0"))
    drive.add_file(drive_id(11), "..\\..\\escape-backslash.png", b"two", folder=drive_id(2, "0"))
    drive.add_file(drive_id(12), "../../../../escape-disposition.zip", b"three")   # named by its answer
    extra_registry(entry_yaml("drive-names", {"kind": "gdrive", "folder": drive_id(1, "0")}))
    extra_registry(entry_yaml("drive-disposition", {"kind": "gdrive", "file": drive_id(12)}))
    folder = fetch_checked(tmp_path, "drive-names")
    single = fetch_checked(tmp_path, "drive-disposition")
    assert folder.returncode == 0 and single.returncode == 0, folder.stderr + single.stderr
    assert sorted(raw_contents("drive-names").values()) == [b"one", b"two"]
    assert raw_contents("drive-disposition") == {"escape-disposition.zip": b"three"}


def test_zenodo_keys_with_control_characters_and_separators_cannot_escape(tmp_path, extra_registry, emulate):
    keys = {"..\\..\\escape-backslash.txt": b"1", "C:\\escape-drive.txt": b"2", "ansi\x1b[2Jclear.txt": b"3",
            "tab\tnew\nline.txt": b"4"}
    zenodo = emulate(ZenodoEmulator())
    zenodo.add("7001", keys)
    extra_registry(entry_yaml("zenodo-names", {"kind": "zenodo", "record": "7001"}))
    result = fetch_checked(tmp_path, "zenodo-names")
    assert result.returncode == 0, result.stderr
    assert sorted(raw_contents("zenodo-names").values()) == sorted(keys.values())


def test_s3_keys_cannot_escape(tmp_path, extra_registry, monkeypatch):
    import boto3
    from moto.server import ThreadedMotoServer

    keys = {"data/../../../../escape-dotdot.txt": b"1", "data//abs/escape-absolute.txt": b"2",
            "data/C:\\escape-drive.txt": b"3", "data/bell\x07.txt": b"4", "data/ok.txt": b"5"}
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        client = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        client.create_bucket(Bucket="hostile")
        for key, data in keys.items():
            client.put_object(Bucket="hostile", Key=key, Body=data, ACL="public-read")
        monkeypatch.setenv("HISTODATA_MIRRORS", f"https://hostile.s3.us-east-1.amazonaws.com=http://{host}:{port}/hostile")
        extra_registry(entry_yaml("s3-names", {"kind": "s3", "bucket": "hostile", "region": "us-east-1",
                                               "prefix": "data/"}))
        result = fetch_checked(tmp_path, "s3-names")
    finally:
        server.stop()
    landed = raw_contents("s3-names")
    assert landed["data/ok.txt"] == b"5" and landed["data/bell.txt"] == b"4"
    # A key with `..` cannot even be requested as itself (URLs drop dot segments): an error then, never a escape.
    assert result.returncode == 0 or "escape-dotdot" in result.stderr, result.stderr


# ----------------------------------------------------------------------------- redirects and tokens
def redirect_first(server: EmulatorServer, pattern: str, target) -> None:
    """Make `server` answer GET `pattern` with a 302 to target(request) (a storage URL elsewhere)."""
    server.routes.insert(0, ("GET", re.compile(pattern),
                             lambda request: Reply(302, b"", {"Location": target(request)})))


@pytest.fixture
def storage(emulate):
    """Another host (STORAGE, in the test's mirror map) that serves any path it is given bytes for."""
    server = EmulatorServer()
    server.blobs = {}
    server.route("GET", r"/(?P<key>.+)")(lambda request: file_reply(request, server.blobs[request.params["key"]]))
    with server:
        emulate.route(STORAGE, server.url)
        yield server


def credential_headers(request) -> dict:
    return {k: v for k, v in request.headers.items() if k in ("authorization", "girder-token", "cookie")}


def test_zenodo_token_does_not_follow_a_redirect_to_another_host(tmp_path, extra_registry, monkeypatch, storage,
                                                                 emulate):
    token = "zenodo-token-9f8e7d6c5b4a"
    zenodo = emulate(ZenodoEmulator())
    zenodo.add("7002", {"a.bin": b"restricted bytes"}, restricted=True, token=token)
    storage.blobs["signed/a.bin"] = b"restricted bytes"
    redirect_first(zenodo.server, r"/api/records/7002/files/a\.bin/content",
                   lambda request: f"{STORAGE}/signed/a.bin?X-Amz-Signature=abc")
    extra_registry(entry_yaml("zen-redirect", {"kind": "zenodo", "record": "7002"}, access="request",
                              instructions="Ask."))
    result = fetch_checked(tmp_path, "zen-redirect", monkeypatch=monkeypatch, env={"ZENODO_TOKEN": token})
    api_calls = list(zenodo.server.requests)
    assert result.returncode == 0, result.stderr
    assert any(r.headers.get("authorization") == f"Bearer {token}" for r in api_calls)   # it was in use
    assert storage.requests and all(credential_headers(r) == {} for r in storage.requests)
    assert raw_contents("zen-redirect") == {"a.bin": b"restricted bytes"}


def test_girder_token_does_not_follow_a_redirect_to_an_s3_assetstore(tmp_path, extra_registry, monkeypatch, storage,
                                                                     emulate):
    key = "girder-api-key-0a1b2c3d4e5f"
    girder = emulate(GirderEmulator(api_keys={key: "alice"}))
    private = girder.folder(girder.collection("data"), "private", public=False)
    item = girder.item(private, "slide.svs", {"slide.svs": b"slide bytes"})
    girder.grant("alice", private)
    file_id = next(n.id for n in girder.nodes.values() if n.model == "file" and n.parent is item)
    storage.blobs[f"assetstore/{file_id}"] = b"slide bytes"
    redirect_first(girder.server, rf"/api/v1/file/{file_id}/download",      # as Girder does for S3 assetstores
                   lambda request: f"{STORAGE}/assetstore/{file_id}?X-Amz-Signature=abc")
    extra_registry(entry_yaml("girder-redirect", {"kind": "girder", "api_url": GIRDER_API, "folder": private.id}))
    result = fetch_checked(tmp_path, "girder-redirect", monkeypatch=monkeypatch, env={"GIRDER_API_KEY": key})
    api_calls = list(girder.server.requests)
    assert result.returncode == 0, result.stderr
    assert any("girder-token" in r.headers for r in api_calls)
    assert storage.requests and all(credential_headers(r) == {} for r in storage.requests)
    assert raw_contents("girder-redirect") == {"slide.svs": b"slide bytes"}


def test_kaggle_basic_auth_does_not_follow_the_redirect_to_storage(tmp_path, extra_registry, monkeypatch, emulate):
    user, key = "alice", "kaggle-key-00112233445566"
    kaggle = emulate(KaggleEmulator(users={user: key}))
    kaggle.datasets["bob/tiles"] = {"tiles/a.png": b"png bytes"}
    extra_registry(entry_yaml("kaggle-redirect", {"kind": "kaggle", "dataset": "bob/tiles"}))
    result = fetch_checked(tmp_path, "kaggle-redirect", monkeypatch=monkeypatch,
                           env={"KAGGLE_USERNAME": user, "KAGGLE_KEY": key})
    assert result.returncode == 0, result.stderr
    assert any(r.headers.get("authorization", "").startswith("Basic ") for r in kaggle.server.requests)
    assert kaggle.storage.requests and all(credential_headers(r) == {} for r in kaggle.storage.requests)
    assert raw_contents("kaggle-redirect") == {"tiles/a.png": b"png bytes"}


# ----------------------------------------------------------------------------- answers that are not the file
ANSWERS = {   # status, body, headers, the size the registry gives, what the error must say
    "login page": (200, (b"<html><head><title>Sign in</title></head><body><form><input type=\"password\">"
                         b"</form></body></html>"), {"Content-Type": "text/html; charset=utf-8"}, 5000, "login page"),
    "waf challenge": (202, b"", {"x-amzn-waf-action": "challenge"}, 5000, "WAF"),
    "empty body": (200, b"", {"Content-Type": "application/octet-stream"}, 5000, "0 bytes"),
    # not labelled HTML: the size the registry gives catches it (so would a checksum)
    "html without a content type": (200, b"<!DOCTYPE html><html><title>Just a moment...</title></html>", {},
                                    5000, "5000 were expected"),
    "html of the right size": (200, (b"<html><title>Access denied</title>" + b" " * 5000)[:5000],
                               {"Content-Type": "text/html"}, 5000, "HTML"),
}


@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_an_answer_that_is_not_the_file_is_a_clear_error_and_no_file(tmp_path, extra_registry, monkeypatch, case):
    status, body, headers, size, said = ANSWERS[case]
    with EmulatorServer() as server:
        server.route("GET", r"/files/slide\.zip")(lambda request: Reply(status, body, dict(headers)))
        monkeypatch.setenv("HISTODATA_MIRRORS", f"https://data.example.org={server.url}")
        extra_registry(entry_yaml("not-the-file", {"kind": "http", "files": [
            {"name": "slide.zip", "url": "https://data.example.org/files/slide.zip",
             **({"size": size} if size else {})}]}))
        result = fetch_checked(tmp_path, "not-the-file", "--json")
    assert result.returncode == 1 and json.loads(result.stdout)["error"]["exit_code"] == 1
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "slide.zip" in error[0] and said.lower() in error[0].lower(), result.stderr
    assert not dataset_paths("not-the-file").raw_file("slide.zip").exists()
