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
