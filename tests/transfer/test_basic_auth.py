"""A server behind HTTP basic authentication (a real nginx with `auth_basic`): the account is read
from ~/.netrc for the host it names only, a fetch without it fails with the next step and loses
nothing, the password never appears in output or in the files histodata writes, and a redirect to
another host does not carry it. The real `anhir` entry is fetched through the mirror map."""
import base64
import json

import pytest
from emulators.service import EmulatorServer, Reply
from helpers import run_cli
from servers.nginx import BASIC_PASSWORD, BASIC_USER

from histodata.http import new_session
from histodata.layout import dataset_paths

SERVER = "http://ptak.felk.cvut.cz/Medical/dataset_ANHIR"
ANHIR_FILES = (["images/dataset_medium.csv", "images/dataset_medium.zip"]
               + [f"images/dataset_medium.z0{i}" for i in range(1, 6)] + ["landmarks/dataset_medium.zip"])


@pytest.fixture
def anhir_server(nginx, monkeypatch, tmp_path):
    for number, name in enumerate(ANHIR_FILES):
        path = nginx.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{name} ".encode() * (50 + number))
    monkeypatch.setenv("HISTODATA_MIRRORS", f"{SERVER}={nginx.url}/basic")
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))        # never the tester's own ~/.netrc
    return nginx


def write_netrc(tmp_path, monkeypatch, host="127.0.0.1", password=BASIC_PASSWORD):
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {host} login {BASIC_USER} password {password}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))


def written_text(folder) -> str:
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file()
                   and p.stat().st_size < 1_000_000)


def test_without_the_account_the_fetch_fails_with_the_next_step(anhir_server):
    result = run_cli("fetch", "anhir", "--json")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "401" in result.stderr and "~/.netrc" in result.stderr and "machine 127.0.0.1" in result.stderr
    assert not any(dataset_paths("anhir").raw.rglob("*.z0*"))


def test_the_account_from_netrc_fetches_every_file_and_is_never_written(anhir_server, tmp_path, monkeypatch):
    write_netrc(tmp_path, monkeypatch)
    result = run_cli("fetch", "anhir", "--json")
    assert result.returncode == 0, result.stderr
    raw = dataset_paths("anhir").raw
    for name in ANHIR_FILES:
        assert (raw / name).read_bytes() == (anhir_server.root / name).read_bytes()
    assert {f["name"] for f in json.loads(result.stdout)["files"]} == set(ANHIR_FILES)
    header = base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
    for secret in (BASIC_PASSWORD, header):
        assert secret not in result.stdout + result.stderr
        assert secret not in written_text(dataset_paths("anhir").root)
    sent = [r for r in anhir_server.requests() if r["uri"].startswith("/basic/")]
    assert sent and all(r["status"] in (200, 206) and r["authorization"] == f"Basic {header}" for r in sent)


def test_a_wrong_password_is_refused_not_retried_forever(anhir_server, tmp_path, monkeypatch):
    write_netrc(tmp_path, monkeypatch, password="wrong")
    result = run_cli("fetch", "anhir", "--json")
    assert result.returncode != 0 and "401" in result.stderr and "Traceback" not in result.stderr
    assert "wrong" not in result.stdout + result.stderr
    refused = [r for r in anhir_server.requests() if r["status"] == 401]
    assert len(refused) == len(ANHIR_FILES)          # one refused request per file: a 401 is not retried


def test_an_account_for_another_host_is_not_sent(anhir_server, tmp_path, monkeypatch):
    write_netrc(tmp_path, monkeypatch, host="ptak.felk.cvut.cz")   # the real host; the mirror is another
    response = new_session().get(f"{SERVER}/images/dataset_medium.csv")
    assert response.status_code == 401
    assert all(not r["authorization"] for r in anhir_server.requests())


def test_a_redirect_to_another_host_does_not_carry_the_account(tmp_path, monkeypatch):
    with EmulatorServer() as elsewhere, EmulatorServer() as guarded:
        @guarded.route("GET", r"/file")
        def file(request):
            if not request.headers.get("authorization"):
                raise Reply(401, b"", {"WWW-Authenticate": 'Basic realm="guest area"'})
            raise Reply(302, b"", {"Location": f"{elsewhere.url}/file".replace("127.0.0.1", "localhost")})

        @elsewhere.route("GET", r"/file")
        def moved(request):
            return Reply(200, b"bytes")

        write_netrc(tmp_path, monkeypatch)
        response = new_session().get(f"{guarded.url}/file")
        assert response.status_code == 200 and response.content == b"bytes"
        assert guarded.requests[-1].headers.get("authorization", "").startswith("Basic ")
        assert "authorization" not in elsewhere.requests[-1].headers
