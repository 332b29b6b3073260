"""Secrets in the forms they travel in: a token with the spaces a variable or file carried (sent
stripped, so redacted stripped too) and a password in a URL's userinfo (registry URLs, mirrors)."""
from __future__ import annotations

from helpers import run_cli

from histodata.errors import DownloadError
from histodata.redact import redact


def test_a_padded_token_is_redacted_as_sent(monkeypatch):
    monkeypatch.setenv("ZENODO_TOKEN", "  padded-token-value-123 \n")
    assert redact("the server echoed: Bearer padded-token-value-123.") == "the server echoed: Bearer ***."
    assert "padded-token-value-123" not in redact("token padded-token-value-123 in a message")


def test_a_password_in_a_url_never_shows():
    url = "https://reader:hunter2-secret@data.example.org/files/a.zip"
    assert redact(f"GET {url} failed") == "GET https://***@data.example.org/files/a.zip failed"
    assert "hunter2-secret" not in str(DownloadError(f"{url} answered HTTP 404."))
    assert redact("https://data.example.org/a@b.zip") == "https://data.example.org/a@b.zip"   # no userinfo


def test_the_cli_never_prints_a_url_password(tmp_path):
    result = run_cli("-v", "download", "http://reader:hunter2-secret@127.0.0.1:9/a.zip", "-o",
                     str(tmp_path / "a.zip"), env={"HISTODATA_RETRIES": "1", "HISTODATA_BACKOFF": "0"})
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "hunter2-secret" not in result.stdout + result.stderr


def test_a_token_never_follows_a_host_that_an_api_document_names(emulate, extra_registry, monkeypatch):
    """A Zenodo record whose file links point at another host: the bytes are fetched from there,
    but ZENODO_TOKEN goes only to zenodo.org (one rule in the HTTP session, not per provider)."""
    import hashlib
    import json as json_module

    from emulators.entries import entry_yaml
    from emulators.service import EmulatorServer, file_reply, json_reply

    from histodata.layout import dataset_paths

    token = "zenodo-token-for-scope-test-1234"
    data = b"bytes kept elsewhere" * 100
    api, elsewhere = EmulatorServer().start(), EmulatorServer().start()
    try:
        record = {"id": 4242, "files": [{"key": "a.bin", "size": len(data),
                                         "checksum": "md5:" + hashlib.md5(data).hexdigest(),
                                         "links": {"content": "https://files.elsewhere.example/a.bin"}}]}
        api.route("GET", r"/api/records/4242")(lambda request: json_reply(record))
        elsewhere.route("GET", r"/a.bin")(lambda request: file_reply(request, data))
        emulate.route("https://zenodo.org", api.url)
        emulate.route("https://files.elsewhere.example", elsewhere.url)
        monkeypatch.setenv("ZENODO_TOKEN", token)
        extra_registry(entry_yaml("scoped", {"kind": "zenodo", "record": "4242"}))
        result = run_cli("-v", "fetch", "scoped", "--json")
        assert result.returncode == 0, result.stderr
        assert json_module.loads(result.stdout)["files"][0]["status"] == "downloaded"
        assert dataset_paths("scoped").raw_file("a.bin").read_bytes() == data
        assert api.requests and all(r.headers.get("authorization") == f"Bearer {token}" for r in api.requests)
        assert elsewhere.requests and not any("authorization" in r.headers for r in elsewhere.requests)
        assert token not in result.stdout + result.stderr
    finally:
        api.stop()
        elsewhere.stop()


def test_a_url_password_in_an_entry_is_not_copied_into_the_registry_cache(tmp_path, extra_registry):
    from emulators.entries import entry_yaml

    from histodata import constants

    extra_registry(entry_yaml("with-password", {"kind": "http", "files": [
        {"name": "a.zip", "url": "https://reader:hunter2-secret@data.example.org/a.zip"}]}))
    for args in (["info", "with-password"], ["info", "with-password", "--json"]):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        assert "hunter2-secret" not in result.stdout + result.stderr
        assert "data.example.org" in result.stdout
    cached = [p for p in constants.cache_dir().rglob("*") if p.is_file()]
    assert cached, "the built-in registry's index should still be cached"
    assert not any(b"hunter2-secret" in p.read_bytes() for p in cached)
