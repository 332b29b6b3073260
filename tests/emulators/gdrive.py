"""A Google Drive emulator for public links, faithful to the reference page (gdown's view):

* `GET /uc?id=<id>[&export=download]` -> 303 to `https://drive.usercontent.google.com/download?...`
  (an absolute URL on another host: clients must map redirect targets through the mirror map);
* `usercontent /download`: small files answer with the bytes and `Content-Disposition`
  (Range supported); large ones answer 200 HTML, the virus-scan page with
  `<form id="download-form">` and hidden `id/export/confirm/uuid`, until `confirm=t&uuid=` match;
* quota files answer the 200 "Quota exceeded" page; private files redirect to accounts sign-in;
* `GET /embeddedfolderview?id=<folder>` lists every child (no 50 cap) as `flip-entry` links;
  `resourcekey=` is required for folders and files created with one.

One server answers for drive.google.com, drive.usercontent.google.com, docs and accounts (each
under a path of its own: see ORIGINS).
"""
from __future__ import annotations

import html
import uuid
from dataclasses import dataclass, field

from .service import Emulator, EmulatorServer, Reply, Request, file_reply

DRIVE = "https://drive.google.com"
USERCONTENT = "https://drive.usercontent.google.com"
DOCS = "https://docs.google.com"
ACCOUNTS = "https://accounts.google.com"


@dataclass
class DriveFile:
    id: str
    name: str
    data: bytes = b""
    mode: str = "small"            # small | large | legacy | quota | private
    resource_key: str | None = None
    confirm_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class DriveFolder:
    id: str
    name: str
    children: list[str] = field(default_factory=list)
    resource_key: str | None = None


def drive_id(n: int, prefix: str = "1") -> str:
    """A plausible 33-character Drive id."""
    return (prefix + f"{n:08d}" + "Abc_DeF-gHiJkLmNoPqRsTuVw")[:33]


class DriveEmulator(Emulator):
    ORIGINS = {DRIVE: "server/drive", USERCONTENT: "server/usercontent", DOCS: "server/docs",
               ACCOUNTS: "server/accounts"}

    def __init__(self):
        self.server = EmulatorServer()
        self.files: dict[str, DriveFile] = {}
        self.folders: dict[str, DriveFolder] = {}
        self._routes()

    def add_file(self, file_id: str, name: str, data: bytes, mode: str = "small", folder: str | None = None,
                 resource_key: str | None = None) -> DriveFile:
        entry = self.files[file_id] = DriveFile(file_id, name, data, mode, resource_key)
        if folder:
            self.folders[folder].children.append(file_id)
        return entry

    def add_folder(self, folder_id: str, name: str, parent: str | None = None,
                   resource_key: str | None = None) -> DriveFolder:
        entry = self.folders[folder_id] = DriveFolder(folder_id, name, resource_key=resource_key)
        if parent:
            self.folders[parent].children.append(folder_id)
        return entry

    # ----- pages
    @staticmethod
    def page(title: str, body: str) -> Reply:
        return Reply(200, f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>",
                     content_type="text/html; charset=utf-8")

    def virus_scan_page(self, entry: DriveFile) -> Reply:
        size = f"{len(entry.data) / 1e9:.1f}G"
        return self.page("Google Drive - Virus scan warning", f"""
<p class="uc-warning-subcaption">Google Drive can't scan this file for viruses.</p>
<p class="uc-warning-subcaption"><span class="uc-name-size"><a href="/open?id={entry.id}">{html.escape(entry.name)}</a> ({size})</span>
 is too large for Google to scan for viruses. Would you still like to download this file?</p>
<form id="download-form" action="{USERCONTENT}/download" method="get">
 <input type="submit" id="uc-download-link" class="goog-inline-block jfk-button jfk-button-action" value="Download anyway"/>
 <input type="hidden" name="id" value="{entry.id}"><input type="hidden" name="export" value="download">
 <input type="hidden" name="confirm" value="t"><input type="hidden" name="uuid" value="{entry.confirm_uuid}">
</form>""")

    def quota_page(self) -> Reply:
        return self.page("Google Drive - Quota exceeded", """<div class="uc-main">
<p class="uc-error-caption">Sorry, you can&#39;t view or download this file at this time.</p>
<p class="uc-error-subcaption">Too many users have viewed or downloaded this file recently. Please try
accessing the file again later. If the file you are trying to access is particularly large or is shared
with many people, it may take up to 24 hours to be able to view or download the file. If you still
can&#39;t access a file after 24 hours, contact your domain administrator.</p></div>""")

    def legacy_confirm(self, request: Request, entry: DriveFile) -> Reply:
        """Drive before 2024: a `download_warning` cookie and a relative confirm link on the page."""
        code = entry.confirm_uuid[:4]
        cookie = f"download_warning_13058876669334088843_{entry.id}"
        if request.query.get("confirm") == code and f"{cookie}={code}" in request.headers.get("cookie", ""):
            return file_reply(request, entry.data, {"Content-Disposition": f'attachment; filename="{entry.name}"'})
        page = self.page("Google Drive - Virus scan warning",
                         f'<a id="uc-download-link" class="goog-inline-block jfk-button jfk-button-action" '
                         f'href="/uc?export=download&amp;confirm={code}&amp;id={entry.id}">Download anyway</a>')
        page.headers["Set-Cookie"] = f"{cookie}={code}; Path=/; HttpOnly"
        return page

    @staticmethod
    def sign_in_redirect(request: Request) -> Reply:
        return Reply(302, b"", {"Location": f"{ACCOUNTS}/ServiceLogin?service=wise&continue=x"})

    def folder_view(self, folder: DriveFolder) -> Reply:
        entries = []
        for child_id in folder.children:
            if child_id in self.folders:
                href = f"{DRIVE}/drive/folders/{child_id}"
                name, icon = self.folders[child_id].name, "application/vnd.google-apps.folder"
            else:
                href = f"{DRIVE}/file/d/{child_id}/view?usp=drive_web"
                name, icon = self.files[child_id].name, "application/octet-stream"
            entries.append(
                f'<div class="flip-entry" id="entry-{child_id}" tabindex="0" role="link">'
                f'<div class="flip-entry-info"><a href="{href}" target="_blank">'
                f'<div class="flip-entry-visual"><div class="flip-entry-visual-card">'
                f'<img src="https://drive-thirdparty.googleusercontent.com/16/type/{icon}" alt=""></div></div>'
                f'<div class="flip-entry-title">{html.escape(name)}</div>'
                f'<div class="flip-entry-last-modified"><div>Jan 2, 2020</div></div></a></div></div>')
        return self.page(html.escape(folder.name), '<div class="flip-entries">' + "".join(entries) + "</div>")

    # ----- routes
    def _routes(self) -> None:
        route = self.server.route

        def key_ok(request: Request, expected: str | None) -> bool:
            return expected is None or request.query.get("resourcekey") == expected

        @route("GET", "/drive/uc")
        def uc(request):
            entry = self.files.get(request.query.get("id", ""))
            if entry is None:
                return Reply(404, "<html><title>Not Found</title></html>", content_type="text/html")
            if entry.mode == "private" or not key_ok(request, entry.resource_key):
                return self.sign_in_redirect(request)
            if entry.mode == "legacy":
                return self.legacy_confirm(request, entry)
            query = f"id={entry.id}&export=download"
            if entry.resource_key:
                query += f"&resourcekey={entry.resource_key}"
            return Reply(303, b"", {"Location": f"{USERCONTENT}/download?{query}"})

        @route("GET", "/usercontent/download")
        def usercontent(request):
            entry = self.files.get(request.query.get("id", ""))
            if entry is None:
                return Reply(404, "<html><title>Not Found</title></html>", content_type="text/html")
            if entry.mode == "quota":
                return self.quota_page()
            if entry.mode == "private":
                return self.sign_in_redirect(request)
            confirmed = request.query.get("confirm") == "t" and request.query.get("uuid") == entry.confirm_uuid
            if entry.mode == "large" and not confirmed:
                return self.virus_scan_page(entry)
            return file_reply(request, entry.data, {
                "Content-Disposition": f'attachment; filename="{entry.name}"; filename*=UTF-8\'\'{entry.name}',
                "Last-Modified": "Tue, 14 Jan 2020 10:00:00 GMT"})

        @route("GET", "/drive/embeddedfolderview")
        def embedded(request):
            folder = self.folders.get(request.query.get("id", ""))
            if folder is None:
                return Reply(404, "<html><title>Error 404 (Not Found)</title></html>", content_type="text/html")
            if not key_ok(request, folder.resource_key):
                return self.sign_in_redirect(request)
            return self.folder_view(folder)

        @route("GET", "/accounts/ServiceLogin")
        def sign_in(request):
            return self.page("Sign in - Google Accounts", "<form><input type='email'></form>")
