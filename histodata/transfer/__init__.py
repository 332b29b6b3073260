"""The download engine: how bytes arrive, verified.

* `download(url, path, checksums, size, headers)` — one file, streamed into a per-process partial
  file, hashed in one pass (every expected algorithm + sha256), verified, renamed atomically,
  resumable across runs (HTTP Range + If-Range, FTP REST), retried politely.
* `download_many(tasks, workers, per_host)` — many files, a bounded pool, one progress display.
* `retry.request_with_retries(session, method, url)` — the same retry policy for API calls.
"""
from __future__ import annotations

from ..errors import BatchDownloadError, BatchError
from .batch import download_many
from .engine import download
from .models import DownloadResult, DownloadTask
from .retry import RetryPolicy, request_with_retries

__all__ = ["download", "download_many", "DownloadTask", "DownloadResult", "BatchDownloadError", "BatchError",
           "RetryPolicy", "request_with_retries"]
