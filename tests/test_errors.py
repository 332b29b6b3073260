"""Errors carry data: HTTP statuses and batch failures are attributes of real error types."""
import pytest
import requests

import histodata.transfer
from histodata.errors import (
    AccessError,
    BatchDownloadError,
    BatchError,
    ChecksumError,
    DownloadError,
    HTTPAccessError,
    HTTPStatusError,
)
from histodata.sources.base import api_get, api_json


class OneAnswer:
    """A session that answers every request with the same status and body (no network)."""

    def __init__(self, status: int, body: bytes = b"{}", content_type: str = "application/json"):
        self.status, self.body, self.content_type = status, body, content_type

    def request(self, method, url, **kwargs):
        response = requests.Response()
        response.status_code, response._content, response.url = self.status, self.body, url
        response.headers["Content-Type"] = self.content_type
        return response


@pytest.mark.parametrize("status", [400, 404, 410])
def test_api_get_raises_a_status_error_with_the_status(status):
    with pytest.raises(HTTPStatusError) as caught:
        api_get(OneAnswer(status, b'{"message": "no such record"}'), "https://api.example.org/x",
                what="record")
    error = caught.value
    assert (error.status, error.url) == (status, "https://api.example.org/x")
    assert isinstance(error, DownloadError) and not isinstance(error, AccessError)
    assert f"HTTP {status} (no such record)" in str(error)


@pytest.mark.parametrize("status", [401, 403])
def test_refusals_are_access_errors_with_their_status(status):
    with pytest.raises(AccessError) as caught:
        api_json(OneAnswer(status), "https://api.example.org/private", what="record")
    assert isinstance(caught.value, HTTPAccessError) and isinstance(caught.value, HTTPStatusError)
    assert caught.value.status == status


def test_success_and_an_empty_answer():
    assert api_json(OneAnswer(200, b'{"a": 1}'), "https://api.example.org/ok", what="doc") == {"a": 1}
    with pytest.raises(DownloadError, match="empty body") as caught:
        api_get(OneAnswer(202, b""), "https://api.example.org/waf", what="doc")
    assert not isinstance(caught.value, HTTPStatusError)


def test_batch_error_has_real_attributes():
    inner = ChecksumError("a.bin is wrong")
    error = BatchError("1 of 2 file(s) failed", "Run again.", failures=[("a.bin", inner)], results=["ok"])
    assert isinstance(error, DownloadError)
    assert error.failures == [("a.bin", inner)] and error.results == ["ok"]
    assert BatchError("x", failures=[]).results == []
    assert BatchDownloadError is BatchError is histodata.transfer.BatchDownloadError
