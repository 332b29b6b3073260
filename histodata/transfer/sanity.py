"""Is this answer the file? Name the likely cause when it is not (quota page, login, WAF ...)."""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from ..errors import CredentialsError, DownloadError

HTML_TYPES = ("text/html", "application/xhtml+xml")


class AccessRefused(DownloadError, CredentialsError):
    """A download refused for lack of credentials or access (both a DownloadError and a CredentialsError)."""


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)
_DRIVE_ERROR = re.compile(rb'class="uc-error-subcaption"[^>]*>(.*?)</p>', re.I | re.S)

# (pattern in the page, likely cause, what to do); first match wins.
_HTML_CAUSES = (
    (rb"quota exceeded|too many users have viewed or downloaded",
     "a Google Drive quota page (the file was downloaded too often recently)",
     "Try again in up to 24 hours, or download it in a browser and adopt it with "
     "`histodata fetch ID --from DIR`."),
    (rb"virus scan warning|id=\"download-form\"|id=\"downloadform\"",
     "a Google Drive confirmation page (file too large to scan)",
     "Download it through its registry entry (`histodata fetch`), which confirms the download."),
    (rb"captcha|cf-chl|challenge-platform|just a moment\.\.\.|awswaf|verify you are human",
     "a bot-protection (WAF) challenge page",
     "The host blocks scripted downloads; try the entry's other sources or download it in a browser."),
    (rb"accounts\.google\.com|type=\"password\"|sign in|log in|login",
     "a login page (the file needs credentials or is not shared publicly)",
     "Check the credentials for this service, or that the file is public."),
)


def is_html(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() in HTML_TYPES


def looks_like_html(first_bytes: bytes) -> bool:
    """True when a body starts like markup (a mislabelled binary file does not)."""
    return first_bytes.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"<", b"")


def html_error(first_bytes: bytes, url: str, status: int) -> DownloadError:
    """The error for an HTML page received where a file was expected."""
    head = first_bytes[:65536]
    lowered = head.lower()
    cause, action = "an HTML page (an error, landing or login page)", (
        "Open the URL in a browser to see what it says; pass allow_html=True if the file really is HTML.")
    for pattern, likely, todo in _HTML_CAUSES:
        if re.search(pattern, lowered):
            cause, action = likely, todo
            break
    detail = _page_text(head)
    error_type = AccessRefused if "login" in cause else DownloadError
    return error_type(f"{url} answered HTTP {status} with {cause} instead of the file"
                      f"{f' ({detail})' if detail else ''}; nothing was saved.", action)


def _page_text(head: bytes) -> str:
    """The page's Drive error caption or title, as short plain text."""
    match = _DRIVE_ERROR.search(head) or _TITLE.search(head)
    if not match:
        return ""
    text = re.sub(r"<[^>]+>|\s+", " ", html.unescape(match.group(1).decode("utf-8", "replace"))).strip()
    return text[:200]


def accepted_error(url: str, headers) -> DownloadError:
    """202 Accepted: no file now (an AWS WAF challenge on figshare, or a file still being prepared)."""
    if headers.get("x-amzn-waf-action"):
        cause = f"an AWS WAF '{headers['x-amzn-waf-action']}' (bot protection) with an empty body"
    else:
        cause = "202 Accepted (the server has not produced the file, or challenges scripted clients)"
    return DownloadError(f"{url} answered with {cause} instead of the file; nothing was saved.",
                         "Try the entry's other sources (e.g. ndownloader.figshare.com or the API "
                         "download URL) or download it in a browser and adopt it with --from.")


def basic_auth_hint(url: str, headers) -> str | None:
    """What to do when the server at `url` (the URL really contacted, after the mirror map) asks for a
    user name and password (`WWW-Authenticate: Basic`): the account goes in ~/.netrc, which is read for
    the host it names only; None for other answers."""
    if not (headers or {}).get("WWW-Authenticate", "").strip().lower().startswith("basic"):
        return None
    return ("The server asks for a user name and password (HTTP basic authentication): put them in "
            f"~/.netrc (or the file $NETRC names) as `machine {urlsplit(url).hostname} login USER password "
            "PASSWORD`; they are sent to that host only. `histodata info ID` says where the account comes from.")


def status_error(url: str, status: int, response=None) -> DownloadError:
    """A 4xx that retrying will not fix, with what it usually means (`response`: the answer, whose
    final URL names the host that asked for an account)."""
    if status in (401, 403):
        asked = basic_auth_hint(response.url, response.headers) if response is not None else None
        return AccessRefused(f"{url} answered HTTP {status} (access refused).",
                             asked
                             or "The file needs credentials, an accepted license or approved access: "
                                "check the token for this service (see `histodata info ID`).")
    if status in (404, 410):
        return DownloadError(f"{url} answered HTTP {status} (not found).",
                             "The file moved or was removed; the registry entry may need an update.")
    return DownloadError(f"{url} answered HTTP {status}.", "Check the URL.")


def empty_body_error(url: str, status: int) -> DownloadError:
    return DownloadError(f"{url} answered HTTP {status} with an empty body instead of the file; "
                         "nothing was saved.", "The host may block scripted downloads or be failing; "
                         "try again later or try another source.")
