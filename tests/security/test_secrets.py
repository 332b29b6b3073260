"""No secret leaks: every credential variable is set to a distinctive value, then fetches that
succeed and fetches that fail (401, 403, 500 from a server that echoes the token back, checksum
mismatch) run with `-v`; stdout, stderr and EVERY file under the data root and the cache are
scanned for every secret (and the Basic-auth form of the Kaggle key). Credential files readable
by others are read, with a warning."""
from __future__ import annotations

import base64
import json
import os
import re

import pytest
from emulators.entries import entry_yaml
from emulators.girder import API as GIRDER_API
from emulators.girder import GirderEmulator
from emulators.kaggle import KaggleEmulator
from emulators.service import Reply
from emulators.zenodo import ZenodoEmulator
from helpers import run_cli

from histodata.layout import dataset_paths

from .hostile import cli, files_under

SECRETS = {"ZENODO_TOKEN": "zenodo-Tok3n-5ec4e7-aa01", "GRAND_CHALLENGE_AUTHORIZATION": "Bearer gc-Tok3n-5ec4e7-bb02",
           "KAGGLE_USERNAME": "kaggle-user", "KAGGLE_KEY": "kaggle-K3y-5ec4e7-cc03",
           "KAGGLE_API_TOKEN": "KGAT_kaggle-Tok3n-5ec4e7-dd04", "GIRDER_API_KEY": "girder-K3y-5ec4e7-ee05"}
BASIC = base64.b64encode(f"{SECRETS['KAGGLE_USERNAME']}:{SECRETS['KAGGLE_KEY']}".encode()).decode()
GC_TOKEN = SECRETS["GRAND_CHALLENGE_AUTHORIZATION"].split()[1]
NEEDLES = [v for k, v in SECRETS.items() if k != "KAGGLE_USERNAME"] + [BASIC, GC_TOKEN]


@pytest.fixture
def secrets_set(monkeypatch, tmp_path):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HISTODATA_BACKOFF", "0")
    monkeypatch.setenv("HISTODATA_RETRIES", "1")
    return tmp_path


def assert_no_secret_anywhere(tmp_path, *texts: str, extra=()) -> None:
    """No secret in the texts, nor in any file under the data root and the cache."""
    needles = [n for n in (*NEEDLES, *extra) if n]
    for text in texts:
        for needle in needles:
            assert needle not in text, f"a secret leaked into the output: ...{text[max(0, text.find(needle) - 80):][:200]}"
    scanned = 0
    for folder in (tmp_path / "home", tmp_path / "cache"):
        for path in files_under(folder):
            data = path.read_bytes()
            scanned += 1
            for needle in needles:
                assert needle.encode() not in data, f"a secret leaked into {path}"
    assert scanned, "nothing was written: the scan proves nothing"


def assert_not_in_urls(*servers) -> None:
    """Tokens travel in headers only: no request path or query string carried one."""
    for server in servers:
        for request in server.requests:
            url = request.path + "?" + "&".join(f"{k}={v}" for k, v in request.query.items())
            assert not any(needle in url for needle in NEEDLES), url


def echoing(status: int):
    """A hostile or buggy server that puts the credentials it received into its error answer."""
    def reply(request):
        said = " ".join(f"{k}={v}" for k, v in request.headers.items() if k in ("authorization", "girder-token"))
        return Reply(status, json.dumps({"message": f"rejected {said}", "status": status}),
                     {"Content-Type": "application/json"})
    return reply


@pytest.fixture
def zenodo(secrets_set, emulate):
    emulator = emulate(ZenodoEmulator())
    emulator.add("8001", {"a.bin": b"restricted bytes", "b.csv": b"x,y\n"}, restricted=True,
                 token=SECRETS["ZENODO_TOKEN"])
    return emulator


def test_zenodo_fetch_that_succeeds_then_verify(zenodo, extra_registry, tmp_path):
    extra_registry(entry_yaml("zen-ok", {"kind": "zenodo", "record": "8001"}, access="request", instructions="Ask."))
    fetched = cli("-v", "fetch", "zen-ok", "--json")
    verified = cli("-v", "verify", "zen-ok", "--json")
    assert fetched.returncode == 0 and verified.returncode == 0, fetched.stderr
    assert any("authorization" in r.headers for r in zenodo.server.requests)   # the token was really used
    assert_not_in_urls(zenodo.server)
    assert_no_secret_anywhere(tmp_path, fetched.stdout, fetched.stderr, verified.stdout, verified.stderr)


@pytest.mark.parametrize("where,status", [("api", 401), ("api", 500), ("content", 401), ("content", 403),
                                           ("content", 500)])
def test_zenodo_errors_that_echo_the_token_do_not_leak_it(zenodo, extra_registry, tmp_path, where, status):
    path = r"/api/records/8001" if where == "api" else r"/api/records/8001/files/b\.csv/content"
    zenodo.server.routes.insert(0, ("GET", re.compile(path), echoing(status)))
    extra_registry(entry_yaml("zen-fail", {"kind": "zenodo", "record": "8001"}, access="request", instructions="Ask."))
    result = cli("-v", "fetch", "zen-fail")
    assert result.returncode != 0, result.stderr
    if (where, status) == ("api", 401):   # the server's own words are quoted in the error: redacted, not dropped
        assert "rejected authorization=***" in result.stderr
    assert_no_secret_anywhere(tmp_path, result.stdout, result.stderr)


def test_zenodo_checksum_mismatch_does_not_leak(zenodo, extra_registry, tmp_path):
    extra_registry(entry_yaml("zen-sum", {"kind": "zenodo", "record": "8001", "files": [
        {"name": "a.bin", "md5": "0" * 32}]}, access="request", instructions="Ask."))
    result = cli("-v", "fetch", "zen-sum")
    assert result.returncode == 1 and "md5" in result.stderr
    assert_no_secret_anywhere(tmp_path, result.stdout, result.stderr)


def test_girder_fetch_that_succeeds_and_one_refused(secrets_set, extra_registry, emulate, tmp_path):
    girder = emulate(GirderEmulator(api_keys={SECRETS["GIRDER_API_KEY"]: "alice"}))
    private = girder.folder(girder.collection("data"), "private", public=False)
    girder.item(private, "slide.svs", {"slide.svs": b"slide"})
    girder.grant("alice", private)
    source = {"kind": "girder", "api_url": GIRDER_API, "folder": private.id}
    extra_registry(entry_yaml("girder-ok", source))
    ok = cli("-v", "fetch", "girder-ok", "--json")
    session_tokens = list(girder.tokens)
    girder.server.routes.insert(0, ("GET", re.compile(r"/api/v1/file/\w+/download"), echoing(401)))
    extra_registry(entry_yaml("girder-refused", source))
    refused = cli("-v", "fetch", "girder-refused")
    assert ok.returncode == 0, ok.stderr
    assert refused.returncode == 1 and "401" in refused.stderr
    assert session_tokens
    assert_not_in_urls(girder.server)
    assert_no_secret_anywhere(tmp_path, ok.stdout, ok.stderr, refused.stdout, refused.stderr, extra=session_tokens)


def test_kaggle_fetches_that_succeed_and_fail_in_a_real_process(secrets_set, extra_registry, emulate, tmp_path):
    kaggle = emulate(KaggleEmulator(users={SECRETS["KAGGLE_USERNAME"]: SECRETS["KAGGLE_KEY"]},
                                    tokens={SECRETS["KAGGLE_API_TOKEN"]}))
    kaggle.datasets["bob/tiles"] = {"tiles/a.png": b"png"}
    kaggle.competitions["closed"] = {"train.csv": b"x"}          # rules not accepted: 403
    extra_registry(entry_yaml("kaggle-ok", {"kind": "kaggle", "dataset": "bob/tiles"}))
    extra_registry(entry_yaml("kaggle-403", {"kind": "kaggle", "competition": "closed"}))
    ok = run_cli("-v", "fetch", "kaggle-ok", "--json")
    forbidden = run_cli("-v", "fetch", "kaggle-403")
    unauthorized = run_cli("-v", "fetch", "kaggle-ok", "--files", "nothing*",
                           env={"KAGGLE_API_TOKEN": "KGAT_wrong-Tok3n-5ec4e7-ff06"})
    assert ok.returncode == 0, ok.stderr
    assert forbidden.returncode == 1 and "rules" in forbidden.stderr
    assert unauthorized.returncode == 1
    assert_not_in_urls(kaggle.server, kaggle.storage)
    assert_no_secret_anywhere(tmp_path, *(r.stdout + r.stderr for r in (ok, forbidden, unauthorized)),
                              extra=["KGAT_wrong-Tok3n-5ec4e7-ff06"])


@pytest.mark.parametrize("file_name,content", [
    ("kaggle.json", json.dumps({"username": "kaggle-user", "key": "kaggle-File-K3y-0644"})),
    ("access_token", "KGAT_file-Tok3n-0644-readable")])
def test_a_credential_file_readable_by_others_is_used_with_a_warning(extra_registry, emulate, tmp_path,
                                                                    file_name, content):
    folder = tmp_path / "kaggle-config"            # $KAGGLE_CONFIG_DIR (conftest)
    folder.mkdir(exist_ok=True)
    path = folder / file_name
    path.write_text(content)
    os.chmod(path, 0o644)
    secret = json.loads(content)["key"] if file_name.endswith(".json") else content
    kg = emulate(KaggleEmulator(users={"kaggle-user": "kaggle-File-K3y-0644"},
                                tokens={"KGAT_file-Tok3n-0644-readable"}))
    kg.datasets["bob/tiles"] = {"a.png": b"png"}
    extra_registry(entry_yaml("kaggle-file", {"kind": "kaggle", "dataset": "bob/tiles"}))
    result = run_cli("fetch", "kaggle-file")
    assert result.returncode == 0, result.stderr
    assert "readable by other users" in result.stderr and "chmod 600" in result.stderr and str(path) in result.stderr
    assert dataset_paths("kaggle-file").raw_file("a.png").read_bytes() == b"png"
    basic = base64.b64encode(f"kaggle-user:{secret}".encode()).decode()
    assert_no_secret_anywhere(tmp_path, result.stdout, result.stderr, extra=[secret, basic])


def test_grand_challenge_fetch_that_succeeds_and_one_refused(secrets_set, extra_registry, emulate, monkeypatch,
                                                               tmp_path):
    from emulators.grand_challenge import GrandChallengeEmulator, Image, tls_contexts

    context, bundle = tls_contexts(tmp_path)
    gc = emulate(GrandChallengeEmulator(context, {GC_TOKEN}))
    gc.add_item(gc.archive("open-to-us", readers={GC_TOKEN}), generic_medical_image=Image("s.tif", {"s.tif": b"II*"}))
    gc.archive("closed-to-us", readers=set())
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    extra_registry(entry_yaml("gc-ok", {"kind": "grand-challenge", "archive": "open-to-us"}))
    extra_registry(entry_yaml("gc-closed", {"kind": "grand-challenge", "archive": "closed-to-us"}))
    ok = cli("-v", "fetch", "gc-ok", "--json")
    closed = cli("-v", "fetch", "gc-closed")
    assert ok.returncode == 0, ok.stderr
    assert closed.returncode == 1
    assert gc.storage.requests and all("authorization" not in r.headers for r in gc.storage.requests)
    assert_not_in_urls(gc.server, gc.storage)
    assert_no_secret_anywhere(tmp_path, ok.stdout, ok.stderr, closed.stdout, closed.stderr)
