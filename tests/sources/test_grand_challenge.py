"""grand-challenge.org archives over TLS: paging, 429, exact JSON, token handling."""
from __future__ import annotations

import pytest
from emulators.entries import entry_yaml
from emulators.grand_challenge import GrandChallengeEmulator, Image, tls_contexts
from helpers import assert_secrets_absent, run_cli

from histodata.errors import AccessError, CredentialsError, DownloadError
from histodata.http import new_session
from histodata.layout import dataset_paths
from histodata.registry.models import Source
from histodata.sources import grand_challenge
from histodata.transfer import download

TOKEN = "gc-token-0123456789abcdef"


@pytest.fixture
def gc(tmp_path, monkeypatch, emulate):
    context, bundle = tls_contexts(tmp_path)
    emulator = GrandChallengeEmulator(context, {TOKEN, "other-token-123456"})
    archive = emulator.archive("camelyon-test", readers={TOKEN})
    for i in range(130):                          # two pages of 100
        emulator.add_item(archive, generic_medical_image=Image(f"slide_{i:03d}.tif",
                                                               {f"slide_{i:03d}.tif": b"II*\x00%d" % i}))
    emulator.add_item(archive, generic_medical_image=Image("ct", {"ct.mhd": b"ObjectType", "ct.zraw": b"zz",
                                                                  "ct.dzi": b"<dzi/>"}),
                      report=b'{"stage": "pN1"}')
    emulator.refs = {"archive": archive}
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.setenv("HISTODATA_BACKOFF", "0")
    return emulate(emulator)


def test_missing_token_names_the_variable_and_the_settings_page(gc):
    with pytest.raises(CredentialsError) as info:
        grand_challenge.list_files(Source(kind="grand-challenge", archive="camelyon-test"), new_session(), None)
    assert "GRAND_CHALLENGE_AUTHORIZATION" in str(info.value) and "api-tokens" in str(info.value)


def test_archive_items_are_paged_and_image_files_listed(gc, monkeypatch, tmp_path):
    monkeypatch.setenv("GRAND_CHALLENGE_AUTHORIZATION", f"Bearer {TOKEN}")
    gc.throttle_next = 1                          # the first list request answers 429 + Retry-After
    files = grand_challenge.list_files(Source(kind="grand-challenge", archive="camelyon-test"), new_session(), None)
    names = {f.name: f for f in files}
    assert sum(1 for n in names if n.startswith("slide_")) == 130
    # the item with two sockets keeps each socket in its folder; DZI (derived) is skipped
    assert {"generic-medical-image/ct.mhd", "generic-medical-image/ct.zraw", "report/report.json"} <= set(names)
    assert not any(n.endswith(".dzi") for n in names)
    assert len(gc.server.seen("/archives/items/")) == 2            # page 1, page 2 (via `next`)
    slug_lookups = [r for r in gc.server.requests if r.path == "/api/v1/archives/"]
    assert gc.throttle_next == 0 and len(slug_lookups) == 2       # the 429 was retried
    remote = names["slide_007.tif"]
    assert remote.headers == {"Authorization": f"Bearer {TOKEN}"}
    download(remote.url, tmp_path / "s.tif", headers=remote.headers, session=new_session(), quiet=True)
    assert (tmp_path / "s.tif").read_bytes() == b"II*\x007"
    storage = gc.storage.requests
    assert storage and all("authorization" not in r.headers for r in storage)


def test_archive_by_pk_and_bare_token(gc, monkeypatch):
    monkeypatch.setenv("GRAND_CHALLENGE_AUTHORIZATION", TOKEN)
    files = grand_challenge.list_files(Source(kind="grand-challenge", archive=gc.refs["archive"].pk),
                                       new_session(), None)
    assert len(files) == 133


def test_no_permission_is_an_access_error(gc, monkeypatch):
    monkeypatch.setenv("GRAND_CHALLENGE_AUTHORIZATION", "other-token-123456")
    with pytest.raises(AccessError) as info:
        grand_challenge.list_files(Source(kind="grand-challenge", archive=gc.refs["archive"].pk),
                                   new_session(), None)
    assert "403" in str(info.value) and "other-token-123456" not in str(info.value)


def test_wrong_token_is_refused_without_echoing_it(gc, monkeypatch):
    monkeypatch.setenv("GRAND_CHALLENGE_AUTHORIZATION", "Bearer not-a-valid-token")
    with pytest.raises(CredentialsError) as info:
        grand_challenge.list_files(Source(kind="grand-challenge", archive="camelyon-test"), new_session(), None)
    assert "401" in str(info.value) and "not-a-valid-token" not in str(info.value)


def test_an_html_answer_is_not_taken_for_json(gc, monkeypatch):
    monkeypatch.setenv("GRAND_CHALLENGE_AUTHORIZATION", TOKEN)
    gc.login_page = True
    with pytest.raises(DownloadError) as info:
        grand_challenge.list_files(Source(kind="grand-challenge", archive="camelyon-test"), new_session(), None)
    assert "text/html, not JSON" in str(info.value)


def test_plain_http_cannot_talk_to_the_tls_only_server(gc, monkeypatch):
    """The emulator speaks TLS only: a plain-http mirror cannot talk to it."""
    monkeypatch.setenv("GRAND_CHALLENGE_AUTHORIZATION", TOKEN)
    monkeypatch.setenv("HISTODATA_MIRRORS", "https://grand-challenge.org=" + gc.server.url.replace("https", "http"))
    monkeypatch.setenv("HISTODATA_RETRIES", "1")
    with pytest.raises(DownloadError) as info:
        grand_challenge.list_files(Source(kind="grand-challenge", archive="camelyon-test"), new_session(), None)
    assert "connection" in str(info.value)


def test_fetch_of_a_custom_archive_entry_keeps_the_token_secret(gc, extra_registry, monkeypatch):
    monkeypatch.setenv("GRAND_CHALLENGE_AUTHORIZATION", TOKEN)
    extra_registry(entry_yaml("gc-archive", {"kind": "grand-challenge", "archive": "camelyon-test"},
                              access="registration", instructions="Join the challenge on grand-challenge.org."))
    result = run_cli("-v", "fetch", "gc-archive", "--files", "slide_00*", "--files", "generic-medical-image/*",
                     "--json")
    assert result.returncode == 0, result.stderr
    raw = dataset_paths("gc-archive").raw
    assert (raw / "slide_003.tif").read_bytes() == b"II*\x003"
    assert (raw / "generic-medical-image" / "ct.zraw").read_bytes() == b"zz"
    assert_secrets_absent([TOKEN], result.stdout, result.stderr, root=dataset_paths("gc-archive").base)


def test_fetch_without_token_names_the_variable(gc, extra_registry):
    extra_registry(entry_yaml("gc-archive", {"kind": "grand-challenge", "archive": "camelyon-test"},
                              access="registration", instructions="Join the challenge on grand-challenge.org."))
    result = run_cli("fetch", "gc-archive")
    assert result.returncode != 0 and "GRAND_CHALLENGE_AUTHORIZATION" in result.stderr


def test_the_token_never_follows_a_next_page_on_another_host(gc, monkeypatch, emulate):
    """A page whose `next` names another host: histodata may ask it, but without the token (the
    credentials' scope is grand-challenge.org, decided before the mirror map)."""
    from emulators.service import EmulatorServer, json_reply

    elsewhere = EmulatorServer().start()
    try:
        elsewhere.route("GET", r"/api/v1/archives/items/")(
            lambda request: json_reply({"count": 0, "next": None, "previous": None, "results": []}))
        emulate.route("https://pages.elsewhere.example", elsewhere.url)
        gc.next_host = "https://pages.elsewhere.example"
        monkeypatch.setenv("GRAND_CHALLENGE_AUTHORIZATION", f"Bearer {TOKEN}")
        grand_challenge.list_files(Source(kind="grand-challenge", archive="camelyon-test"), new_session(), None)
        assert elsewhere.requests, "the next page should have been asked for"
        assert not any("authorization" in r.headers for r in elsewhere.requests)
        assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in gc.server.requests
                   if "/archives/" in r.path)
    finally:
        elsewhere.stop()
