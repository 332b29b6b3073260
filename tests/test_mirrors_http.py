"""The mirror map and the shared HTTP session, against a real local server."""
import http.server
import threading

import pytest
from helpers import run_cli
from servers.nginx import free_port
from servers.quiet import QuietHTTPServer

from histodata.errors import HistodataError, OfflineError
from histodata.http import USER_AGENT, new_session
from histodata.mirrors import apply_mirrors, parse_mirrors


def test_longest_prefix_wins_and_boundaries_hold():
    pairs = parse_mirrors("https://zenodo.org=http://127.0.0.1:1 ; https://zenodo.org/api=http://127.0.0.1:2/x")
    assert apply_mirrors("https://zenodo.org/api/records/1", pairs) == "http://127.0.0.1:2/x/records/1"
    assert apply_mirrors("https://zenodo.org/records/1", pairs) == "http://127.0.0.1:1/records/1"
    assert apply_mirrors("https://zenodo.org.evil.com/x", pairs) == "https://zenodo.org.evil.com/x"
    assert apply_mirrors("https://other.org/x", pairs) == "https://other.org/x"


def test_bad_mirror_spec_is_a_clear_error():
    with pytest.raises(HistodataError, match="ORIGINAL=REPLACEMENT"):
        parse_mirrors("https://zenodo.org")


class Handler(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        Handler.seen.append((self.path, dict(self.headers)))
        if self.path in ("/start", "/same"):
            self.send_response(302)
            self.send_header("Location", "https://storage.example.com/bytes" if self.path == "/start" else "/bytes")
            self.end_headers()
            return
        body = b"payload"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def two_servers():
    servers = [QuietHTTPServer(("127.0.0.1", 0), Handler) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    Handler.seen = []
    yield [f"http://127.0.0.1:{s.server_address[1]}" for s in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


def test_redirect_targets_go_through_mirrors_and_lose_credentials(two_servers, monkeypatch):
    api, storage = two_servers
    monkeypatch.setenv("HISTODATA_MIRRORS", f"https://api.example.com={api} https://storage.example.com={storage}")
    session = new_session()
    response = session.get("https://api.example.com/start", headers={"Girder-Token": "s3cret-token",
                                                                     "Authorization": "Bearer s3cret-token"})
    assert response.content == b"payload"
    (first_path, first_headers), (second_path, second_headers) = Handler.seen
    assert (first_path, second_path) == ("/start", "/bytes")
    assert first_headers["Girder-Token"] == "s3cret-token"
    assert "Girder-Token" not in second_headers and "Authorization" not in second_headers
    assert second_headers["User-Agent"] == USER_AGENT


def test_offline_mode_refuses_requests(monkeypatch):
    monkeypatch.setenv("HISTODATA_OFFLINE", "1")
    with pytest.raises(OfflineError, match="HISTODATA_OFFLINE"):
        new_session().get("https://zenodo.org/api/records/1")


def test_credentials_dropped_when_original_hosts_differ_on_one_mirror(two_servers, monkeypatch):
    """Two real hosts mirrored onto the same local server are still two hosts."""
    api, _ = two_servers
    monkeypatch.setenv("HISTODATA_MIRRORS", f"https://api.example.com={api} https://storage.example.com={api}")
    response = new_session().get("https://api.example.com/start", headers={"Girder-Token": "s3cret-token",
                                                                           "Authorization": "Bearer s3cret-token"})
    assert response.content == b"payload"
    (_, first_headers), (second_path, second_headers) = Handler.seen
    assert second_path == "/bytes" and first_headers["Girder-Token"] == "s3cret-token"
    assert "Girder-Token" not in second_headers and "Authorization" not in second_headers


def test_credentials_kept_on_same_host_redirect(two_servers, monkeypatch):
    api, _ = two_servers
    monkeypatch.setenv("HISTODATA_MIRRORS", f"https://api.example.com={api}")
    session = new_session()
    response = session.get("https://api.example.com/same", headers={"Girder-Token": "s3cret-token"})
    assert response.content == b"payload"
    assert [h.get("Girder-Token") for _, h in Handler.seen] == ["s3cret-token", "s3cret-token"]


@pytest.mark.parametrize("spec, words", [
    ("https://zenodo.org/=http://127.0.0.1:8766", "original ends with '/' but the replacement does not"),
    ("https://zenodo.org/api/=http://127.0.0.1:8766/x", "original ends with '/' but the replacement does not"),
    ("https://zenodo.org=file:///srv/zenodo", "'file:///srv/zenodo' is not an http://, https:// or ftp://"),
    ("zenodo.org=http://127.0.0.1:8766", "the original 'zenodo.org' is not an http://"),
])
def test_a_mirror_typo_is_an_error_naming_the_item_and_the_fix(spec, words, monkeypatch, tmp_path):
    with pytest.raises(HistodataError, match=words) as caught:
        parse_mirrors(f"https://ok.org=http://127.0.0.1:1 {spec}")
    assert repr(spec) in caught.value.message and caught.value.hint
    monkeypatch.setenv("HISTODATA_MIRRORS", spec)
    result = run_cli("download", "https://zenodo.org/api/records/1/files/a.bin/content",
                     "-o", str(tmp_path / "a.bin"))
    assert result.returncode == 1 and "HISTODATA_MIRRORS" in result.stderr and repr(spec) in result.stderr
    assert "check your connection" not in result.stderr.lower() and "Traceback" not in result.stderr


def test_mirrors_with_a_slash_on_both_sides_or_only_on_the_replacement_still_work():
    pairs = parse_mirrors("https://a.org/=http://127.0.0.1:1/ https://b.org=http://127.0.0.1:2/")
    assert apply_mirrors("https://a.org/x", pairs) == "http://127.0.0.1:1/x"
    assert apply_mirrors("https://b.org/x", pairs) == "http://127.0.0.1:2/x"


def test_a_download_error_names_the_mirror_tried_and_the_original(monkeypatch, tmp_path):
    port = free_port()                                   # nothing listens there
    monkeypatch.setenv("HISTODATA_MIRRORS", f"https://files.example.org=http://127.0.0.1:{port}/typo")
    monkeypatch.setenv("HISTODATA_RETRIES", "1")
    result = run_cli("download", "https://files.example.org/a.bin", "-o", str(tmp_path / "a.bin"))
    assert result.returncode == 1, result.stderr
    assert "https://files.example.org/a.bin" in result.stderr
    assert f"tried at the mirror http://127.0.0.1:{port}/typo/a.bin" in result.stderr
