"""The one retry policy: Retry-After parsing, backoff bounds, and API calls through it."""
from __future__ import annotations

import email.utils

import pytest

from histodata.errors import DownloadError
from histodata.http import new_session
from histodata.transfer.retry import RetryableError, RetryPolicy, parse_retry_after, request_with_retries


def test_retry_after_seconds_and_http_date():
    assert parse_retry_after("120") == 120
    now = 1_700_000_000
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_backoff_grows_exponentially_with_jitter_under_a_cap():
    policy = RetryPolicy(tries=10, backoff=1.0, max_delay=8.0)
    for failures, ceiling in ((1, 1), (2, 2), (3, 4), (4, 8), (9, 8)):
        delays = [policy.delay(failures) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # jitter spreads over the interval
    assert policy.delay(3, retry_after=42) == 42


def test_policy_reads_the_environment(monkeypatch):
    monkeypatch.setenv("HISTODATA_RETRIES", "2")
    monkeypatch.setenv("HISTODATA_BACKOFF", "0.5")
    assert RetryPolicy.from_env() == RetryPolicy(tries=2, backoff=0.5)
    with pytest.raises(DownloadError, match="gave up after 2 tries"):
        RetryPolicy.from_env().wait(2, RetryableError("boom"))


def test_api_requests_retry_429_and_5xx_then_return_the_document(fault_server, monkeypatch):
    fault_server.add("/api/records/1", b'{"id": 1}', ["retry-after:429:0", "status:503"],
                     content_type="application/json")
    monkeypatch.setenv("HISTODATA_MIRRORS", f"https://zenodo.org={fault_server.url}")
    response = request_with_retries(new_session(), "GET", "https://zenodo.org/api/records/1")
    assert response.json() == {"id": 1}
    assert len(fault_server.requests_for("/api/records/1")) == 3


def test_api_requests_return_client_errors_untouched(fault_server):
    response = request_with_retries(new_session(), "GET", fault_server.url + "/nothing")
    assert response.status_code == 404 and len(fault_server.log) == 1


def test_api_requests_give_up_with_a_clear_error(fault_server):
    url = fault_server.add("/api", b"{}", ["status:503"] * 10)
    with pytest.raises(DownloadError, match=r"HTTP 503 \(server error\) \(gave up after 4 tries\)"):
        request_with_retries(new_session(), "GET", url)
    assert len(fault_server.log) == 4


def test_api_requests_retry_dropped_connections(fault_server):
    url = fault_server.add("/api", b'{"ok": true}' + b" " * 5000, ["drop:10"])
    assert request_with_retries(new_session(), "GET", url).json() == {"ok": True}
