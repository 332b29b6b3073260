"""The engine against a hostile server: every failure is retried, restarted or refused, never saved."""
from __future__ import annotations

import json

import pytest

from histodata.errors import ChecksumError, CredentialsError, DownloadError
from histodata.transfer import download

from .conftest import leftovers, md5, payload

DATA = payload(3 << 20, seed=1)
SIZE = len(DATA)
CUT_THEN_DEAD = ["drop:1000"] + ["status:503"] * 3  # some bytes, then no progress until the tries run out


def fetch(server, tmp_path, script=(), *, name="file.bin", checksums=None, size=SIZE, **options):
    url = server.add("/" + name, options.pop("data", DATA), script, **options)
    return download(url, tmp_path / "out" / name, {"md5": md5(DATA)} if checksums is None else checksums,
                    size, quiet=True)


def test_dropped_connection_continues_with_range_and_if_range(fault_server, tmp_path):
    result = fetch(fault_server, tmp_path, ["drop:100000"])
    assert (tmp_path / "out" / "file.bin").read_bytes() == DATA
    first, second = fault_server.requests_for("/file.bin")
    assert "Range" not in first["headers"]
    assert second["headers"]["Range"] == "bytes=100000-"
    assert second["headers"]["If-Range"] == '"v1"'
    assert result.verified == ["md5"] and result.resumed_from == 0
    assert leftovers(tmp_path / "out") == ["file.bin"]


def test_gives_up_after_bounded_tries_and_next_run_resumes(fault_server, tmp_path):
    with pytest.raises(DownloadError, match="gave up after 4 tries"):
        fetch(fault_server, tmp_path, ["truncate:50000"] + ["status:503"] * 3)
    kept = leftovers(tmp_path / "out")
    assert not (tmp_path / "out" / "file.bin").exists()
    assert len(kept) == 2 and kept[0].endswith(".partial") and kept[1].endswith(".partial.json")
    result = fetch(fault_server, tmp_path)
    assert result.resumed_from == 50000
    assert (tmp_path / "out" / "file.bin").read_bytes() == DATA
    assert leftovers(tmp_path / "out") == ["file.bin"]


def test_rate_limits_and_server_errors_are_retried(fault_server, tmp_path):
    fetch(fault_server, tmp_path, ["status:503", "retry-after:429:0", "status:502"])
    assert len(fault_server.requests_for("/file.bin")) == 4
    assert md5((tmp_path / "out" / "file.bin").read_bytes()) == md5(DATA)


def test_retry_after_as_http_date_is_honoured(fault_server, tmp_path):
    fetch(fault_server, tmp_path, ["retry-after:503:date+1"])
    assert len(fault_server.requests_for("/file.bin")) == 2


def test_a_retry_after_too_long_to_wait_is_reported(fault_server, tmp_path):
    with pytest.raises(DownloadError, match="asks to wait 7200 s"):
        fetch(fault_server, tmp_path, ["retry-after:429:7200"])
    assert len(fault_server.requests_for("/file.bin")) == 1


@pytest.mark.parametrize("status, error, words", [
    (404, DownloadError, "not found"),
    (403, CredentialsError, "access refused"),
])
def test_client_errors_are_not_retried(fault_server, tmp_path, status, error, words):
    with pytest.raises(error, match=words):
        fetch(fault_server, tmp_path, [f"status:{status}"])
    assert len(fault_server.requests_for("/file.bin")) == 1
    assert leftovers(tmp_path / "out") == []


def test_access_refused_is_also_a_download_error(fault_server, tmp_path):
    with pytest.raises(DownloadError):
        fetch(fault_server, tmp_path, ["status:401"])


@pytest.mark.parametrize("page, cause", [
    ("drive-quota", "Google Drive quota page.*Too many users"),
    ("drive-virus", "Google Drive confirmation page"),
    ("login", "login page"),
    ("cloudflare", "WAF"),
    ("plain", "an HTML page .*Welcome to our portal"),
])
def test_html_instead_of_the_file_names_the_likely_cause(fault_server, tmp_path, page, cause):
    with pytest.raises(DownloadError, match=cause) as caught:
        fetch(fault_server, tmp_path, [f"html:{page}"])
    assert "nothing was saved" in str(caught.value)
    assert leftovers(tmp_path / "out") == []


def test_html_is_accepted_when_the_file_is_html(fault_server, tmp_path):
    page = b"<html><body>the real document</body></html>"
    url = fault_server.add("/doc.html", page, content_type="text/html")
    result = download(url, tmp_path / "doc.html", allow_html=True, quiet=True)
    assert result.path.read_bytes() == page
    with pytest.raises(DownloadError, match="HTML page"):
        download(url, tmp_path / "again.html", quiet=True)


def test_waf_challenge_with_202_and_empty_body_is_an_error(fault_server, tmp_path):
    with pytest.raises(DownloadError, match="AWS WAF 'challenge'"):
        fetch(fault_server, tmp_path, ["waf"], checksums={}, size=None)
    assert leftovers(tmp_path / "out") == []


def test_empty_200_is_an_error_unless_an_empty_file_is_expected(fault_server, tmp_path):
    with pytest.raises(DownloadError, match="empty body"):
        fetch(fault_server, tmp_path, ["empty"], checksums={}, size=None)
    assert leftovers(tmp_path / "out") == []
    url = fault_server.add("/empty.txt", b"")
    assert download(url, tmp_path / "empty.txt", size=0, quiet=True).size == 0


def test_server_ignoring_range_restarts_cleanly_from_zero(fault_server, tmp_path):
    fetch(fault_server, tmp_path, ["drop:200000", "ignore-range"])
    assert (tmp_path / "out" / "file.bin").read_bytes() == DATA
    assert fault_server.requests_for("/file.bin")[1]["headers"]["Range"] == "bytes=200000-"


def test_wrong_bytes_never_replace_a_good_file(fault_server, tmp_path):
    target = tmp_path / "out" / "file.bin"
    target.parent.mkdir()
    target.write_bytes(b"the good old file")
    with pytest.raises(ChecksumError) as caught:
        fetch(fault_server, tmp_path, ["wrong"])
    assert f"md5 expected {md5(DATA)} got " in str(caught.value)
    assert target.read_bytes() == b"the good old file"
    assert leftovers(tmp_path / "out") == ["file.bin"]


def test_file_changed_upstream_during_resume_restarts_with_the_new_bytes(fault_server, tmp_path):
    fetch(fault_server, tmp_path, ["drop:300000", "changed"], checksums={}, size=SIZE)
    got = (tmp_path / "out" / "file.bin").read_bytes()
    assert got != DATA and got == fault_server.routes["/file.bin"].data


def test_server_honouring_range_despite_a_changed_file_restarts(fault_server, tmp_path):
    fetch(fault_server, tmp_path, ["drop:300000", "changed-range"], checksums={}, size=SIZE)
    got = (tmp_path / "out" / "file.bin").read_bytes()
    assert got == fault_server.routes["/file.bin"].data
    assert len(fault_server.requests_for("/file.bin")) == 3


def test_size_different_from_expected_is_refused_before_downloading(fault_server, tmp_path):
    with pytest.raises(ChecksumError, match=f"{SIZE + 10} bytes on the server but {SIZE} were expected"):
        fetch(fault_server, tmp_path, ["bigger"])
    assert leftovers(tmp_path / "out") == []


def test_a_flaky_link_that_keeps_delivering_is_followed_to_the_end(fault_server, tmp_path):
    fetch(fault_server, tmp_path, ["drop:300000"] * 8)  # twice the policy's tries, each with progress
    assert (tmp_path / "out" / "file.bin").read_bytes() == DATA
    assert len(fault_server.requests_for("/file.bin")) == 9


def test_truncated_body_without_checksum_is_not_saved(fault_server, tmp_path):
    with pytest.raises(DownloadError, match="gave up"):
        fetch(fault_server, tmp_path, CUT_THEN_DEAD, checksums={}, size=None, validators=False)
    assert not (tmp_path / "out" / "file.bin").exists()


def test_kept_bytes_without_validator_or_checksum_are_not_trusted(fault_server, tmp_path):
    with pytest.raises(DownloadError):
        fetch(fault_server, tmp_path, CUT_THEN_DEAD, checksums={}, size=None, validators=False)
    result = fetch(fault_server, tmp_path, checksums={}, size=None, validators=False)
    assert result.resumed_from == 0 and result.path.read_bytes() == DATA
    assert "Range" not in fault_server.requests_for("/file.bin")[-1]["headers"]


def test_binary_file_mislabelled_as_html_is_still_the_file(fault_server, tmp_path):
    result = fetch(fault_server, tmp_path, content_type="text/html; charset=utf-8",
                   data=b"PK\x03\x04" + DATA[4:], checksums={}, size=None)
    assert result.path.read_bytes() == b"PK\x03\x04" + DATA[4:]


def test_redirect_loop_is_not_retried(fault_server, tmp_path):
    url = fault_server.add("/loop", b"", ["status:302"] * 100, headers={"Location": "/loop"})
    with pytest.raises(DownloadError, match="TooManyRedirects"):
        download(url, tmp_path / "loop.bin", quiet=True)
    assert len(fault_server.requests_for("/loop")) == 31  # requests' limit of 30 redirects, one try


def test_a_resume_whose_total_contradicts_the_first_answer_restarts(fault_server, tmp_path):
    """Same ETag, but the 206 announces another total: the kept bytes are not spliced in."""
    result = fetch(fault_server, tmp_path, ["drop:2000000", "lying"], checksums={}, size=None)
    served = fault_server.routes["/file.bin"].data
    assert len(served) == SIZE + 10 and result.path.read_bytes() == served
    assert result.size == len(served) and result.resumed_from == 0
    assert "Range" not in fault_server.requests_for("/file.bin")[-1]["headers"]


def test_a_resume_without_any_validator_restarts_instead_of_splicing(fault_server, tmp_path):
    result = fetch(fault_server, tmp_path, ["drop:2000000", "changed-range"], checksums={}, size=None,
                   validators=False)
    served = fault_server.routes["/file.bin"].data
    assert served != DATA and result.path.read_bytes() == served
    assert "Range" not in fault_server.requests_for("/file.bin")[-1]["headers"]


def test_the_announced_total_is_kept_in_the_partial_state(fault_server, tmp_path):
    with pytest.raises(DownloadError):
        fetch(fault_server, tmp_path, CUT_THEN_DEAD, checksums={}, size=None)
    (sidecar,) = (tmp_path / "out").glob(".file.bin.*.partial.json")
    assert json.loads(sidecar.read_text())["total"] == SIZE
    fault_server.routes["/file.bin"].data = DATA + b"more"     # same ETag, another total
    result = fetch(fault_server, tmp_path, checksums={}, size=None, data=DATA + b"more")
    assert result.path.read_bytes() == DATA + b"more" and result.resumed_from == 0


@pytest.fixture
def stall_after_half_a_second(monkeypatch):
    monkeypatch.setenv("HISTODATA_LOW_SPEED_LIMIT", "1000")
    monkeypatch.setenv("HISTODATA_LOW_SPEED_TIME", "0.5")


def test_a_slow_loris_server_is_given_up_on_with_a_clear_message(fault_server, tmp_path,
                                                                   stall_after_half_a_second):
    with pytest.raises(DownloadError, match=r"stalled .*below the minimum of 1000 bytes/s over 0.5 s.*"
                                            r"gave up after 4 tries") as caught:
        fetch(fault_server, tmp_path, ["trickle:50000:0.1"] * 10)
    assert "HISTODATA_LOW_SPEED_LIMIT=0" in caught.value.hint
    requests = fault_server.requests_for("/file.bin")
    offsets = [int(r["headers"].get("Range", "bytes=0-")[6:-1]) for r in requests]
    assert len(requests) == 4 and offsets[3] >= 3 * 50000                # each try resumed the kept bytes
    result = fetch(fault_server, tmp_path)           # the next run resumes the kept bytes
    assert result.resumed_from >= 4 * 50000 and result.path.read_bytes() == DATA


def test_a_stall_is_retried_and_resumes_where_it_stopped(fault_server, tmp_path, stall_after_half_a_second):
    result = fetch(fault_server, tmp_path, ["trickle:300000:0.1", "trickle:300000:0.1"])
    assert result.path.read_bytes() == DATA
    ranges = [r["headers"].get("Range") for r in fault_server.requests_for("/file.bin")]
    assert ranges[0] is None and ranges[1].startswith("bytes=300") and ranges[2].startswith("bytes=600")
