"""Errors a user can act on. The CLI prints them as one paragraph, without a traceback."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .redact import redact

_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"]*[^\s'\":,;.)]")   # trailing punctuation is not the URL's


class HistodataError(Exception):
    """Base of every expected failure: `str(err)` says what went wrong and what to do."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = self.message if not self.hint else f"{self.message} {self.hint}"
        return redact(text)

    def __reduce__(self):
        """Pickled whole (hint and every attribute, whatever the subclass's constructor): errors
        travel from the workers of a Dask cluster back to the client."""
        return _restore, (type(self), self.args, dict(self.__dict__))


def _restore(cls, args: tuple, state: dict) -> HistodataError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class RegistryError(HistodataError):
    """An invalid registry file or folder."""


class UnknownDatasetError(HistodataError, KeyError):
    """No entry has this id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return HistodataError.__str__(self)


class DownloadError(HistodataError):
    """Bytes could not be fetched (network, HTTP status, content that is not the file)."""


class ChecksumError(DownloadError):
    """Bytes arrived but do not match the expected size or checksum."""


class HTTPStatusError(DownloadError):
    """A server answered an HTTP error status: `.status` (e.g. 404) and `.url` say which."""

    def __init__(self, message: str, hint: str | None = None, *, status: int, url: str = ""):
        super().__init__(message, hint)
        self.status = status
        self.url = url


class BatchError(DownloadError):
    """Several things failed at once (files of one download batch, or one fetch's files).

    `failures` is a list of `(what, error)` pairs: `what` names what failed (the DownloadTask of
    `download_many`, a file name, or None) and `error` is its HistodataError; `results` holds
    what succeeded (e.g. the DownloadResults of the files that arrived).
    """

    def __init__(self, message: str, hint: str | None = None, *, failures: list[tuple[Any, HistodataError]],
                 results: list | None = None):
        super().__init__(message, hint)
        self.failures = list(failures)
        self.results = list(results or [])


BatchDownloadError = BatchError   # the name histodata.transfer exported first


class CredentialsError(HistodataError):
    """A service needs credentials that are missing or refused."""


class AccessError(HistodataError):
    """The data needs a manual step (registration, request) or is not distributed now."""


class HTTPAccessError(HTTPStatusError, AccessError):
    """HTTP 401 or 403: the data is not public or needs credentials (a permission problem)."""


class StandardizeError(HistodataError):
    """Raw files could not be turned into the local layout."""


class UnsafeArchiveError(HistodataError):
    """An archive member would escape its target or is otherwise hostile."""


class OfflineError(HistodataError):
    """A network access was needed while $HISTODATA_OFFLINE is set."""


class IncompleteError(HistodataError):
    """Not everything asked for is in place and verified; `.report` says what is (a FetchReport)."""

    def __init__(self, message: str, hint: str | None = None, report=None):
        super().__init__(message, hint)
        self.report = report


class ExtractionCollisionError(HistodataError):
    """Two archives (or an archive and another file) would write different content to one place."""


def failure_summary(failures: list[tuple[str, BaseException]], listed: int = 5) -> str:
    """Many failures in a few lines: each distinct reason once (URLs reduced to their host), with
    how many files it hit and the first few of their names."""
    groups: dict[str, list[str]] = {}
    for label, error in failures:
        message = getattr(error, "message", None) or str(error)
        reason = _URL.sub(lambda match: urlsplit(match.group()).hostname or "a URL", message).rstrip(".")
        hint = getattr(error, "hint", None)
        if hint:                       # what to do belongs to the reason (its links kept whole)
            reason = f"{reason}. {hint.rstrip('.')}"
        groups.setdefault(reason, []).append(label)
    parts = []
    for reason, labels in groups.items():
        named = [label for label in labels if label]
        names = ", ".join(named[:listed]) + (f" and {len(named) - listed} more" if len(named) > listed else "")
        if len(labels) == 1:
            parts.append(f"{labels[0]}: {reason}" if labels[0] else reason)
        else:
            parts.append(f"{reason} ({names or f'{len(labels)} times'})")
    return redact("; ".join(parts))
