"""FTP bodies for the engine (e.g. GigaDB's FTP mirror): binary RETR with REST to resume.

ftplib, not pooch's FTPDownloader: pooch cannot resume or stream into our verifier. The file's
MDTM time plays the part of Last-Modified, so a changed file restarts from zero.
"""
from __future__ import annotations

import ftplib
import socket
from urllib.parse import unquote, urlsplit

from .. import constants
from ..errors import DownloadError, OfflineError
from .hashing import CHUNK
from .retry import RetryableError
from .transport import Body, RestartFromZero, display_url

TIMEOUT = 60


def open_ftp(url: str, *, offset: int, last_modified: str | None) -> Body:
    """RETR the file of an ftp:// URL from `offset`; anonymous unless the URL has user:password."""
    ftp, path = connect(url)
    try:
        total, modified = _size(ftp, path), _modification_time(ftp, path)
        if offset and last_modified and modified and modified != last_modified:
            raise RestartFromZero("the file changed on the server (new MDTM)")
        if offset and total is not None and offset >= total:
            ftp.quit()
            return Body(start=offset, total=total, chunks=iter(()), last_modified=modified)
        connection = ftp.transfercmd(f"RETR {path}", rest=offset or None)
    except Exception as err:
        ftp.close()
        raise ftp_error(err, url) from None
    except BaseException:
        ftp.close()
        raise

    def close() -> None:
        connection.close()
        ftp.close()

    return Body(start=offset, total=total, chunks=_chunks(connection, ftp, url),
                last_modified=modified, close=close)


def connect(url: str, named: str | None = None) -> tuple[ftplib.FTP, str]:
    """A logged-in, binary-mode connection to the server of an ftp:// URL (anonymous unless the URL
    has user:password) and the URL's path; failures as histodata errors naming `named` (default:
    the URL)."""
    if constants.offline():
        raise OfflineError(f"network access to {display_url(url)} refused: {constants.ENV_OFFLINE} is set.",
                           "Unset it, or use data already on disk.")
    parts = urlsplit(url)
    ftp = ftplib.FTP(timeout=TIMEOUT)
    try:
        ftp.connect(parts.hostname or "", parts.port or 21)
        ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or "anonymous@"))
        ftp.voidcmd("TYPE I")
    except Exception as err:
        ftp.close()
        raise ftp_error(err, named or url) from None
    return ftp, unquote(parts.path)


def _size(ftp: ftplib.FTP, path: str) -> int | None:
    try:
        return ftp.size(path)
    except ftplib.error_perm as err:
        if str(err).startswith("550"):
            raise
        return None


def _modification_time(ftp: ftplib.FTP, path: str) -> str | None:
    try:
        return ftp.voidcmd(f"MDTM {path}").split()[-1]
    except ftplib.error_perm:
        return None


def _chunks(connection: socket.socket, ftp: ftplib.FTP, url: str):
    try:
        while chunk := connection.recv(CHUNK):
            yield chunk
        connection.close()
        ftp.voidresp()  # 226: the server says the transfer is complete
    except Exception as err:
        raise ftp_error(err, url) from None


def ftp_error(err: Exception, url: str) -> Exception:
    """ftplib and socket failures as histodata errors: 4xx and network trouble are retryable."""
    shown = display_url(url)
    if isinstance(err, (RestartFromZero, DownloadError)):
        return err
    if isinstance(err, ftplib.error_perm):
        return DownloadError(f"{shown}: the FTP server refused: {str(err)[:200]}.",
                             "Check the path (550 = no such file) and the login.")
    if isinstance(err, (ftplib.error_temp, ftplib.error_reply, EOFError, OSError)):
        return RetryableError(f"{shown}: FTP transfer failed ({type(err).__name__}: {str(err)[:200]})",
                              "Check your connection and run the command again.")
    return err
