"""`kind: gdc` — files of the NCI Genomic Data Commons (api.gdc.cancer.gov), e.g. TCGA slide images.

Listing: `POST /files` with `filters` (the source's projects or program, `data_type` — default
`Slide Image` — an optional `experimental_strategy`, and `access: open` unless a token is set),
asking explicitly for `md5sum`, `file_size`, `file_name` and the case fields (the default field set
has no md5), sorted by file id and paged with `size`/`from` in large pages until `from + count`
reaches `total` or a page comes back empty. Bytes: `GET /data/<file_id>` through the download
engine (Range resume, the md5 check, 429/5xx backoff).

Files land under raw/ as `<project>/<file_name>` (GDC file names are unique within a project; a
name listed twice gets the file id as an extra folder: `<project>/<file_id>/<file_name>`).
Each file carries its metadata (`file_fields` in its row of `histodata.registry.kinds`): file id,
case (submitter id), project, sample type, experimental strategy, primary site, disease type.

`$GDC_TOKEN` (or the file named by `$GDC_TOKEN_FILE`) travels only as `X-Auth-Token` to the GDC
API host, for controlled-access files; without it only open files are listed.
"""
from __future__ import annotations

import logging
import re

from .. import credentials
from ..errors import DownloadError
from .base import RemoteFile, api_json, remote_name

log = logging.getLogger(__name__)

KIND = "gdc"
API = "https://api.gdc.cancer.gov"
PORTAL = "https://portal.gdc.cancer.gov"
PAGE_SIZE = 5000            # hits per page: all TCGA slides (~30,000) in a handful of requests
DEFAULT_DATA_TYPE = "Slide Image"
CASE_FIELDS = ("cases.submitter_id", "cases.case_id", "cases.project.project_id", "cases.primary_site",
               "cases.disease_type", "cases.samples.sample_type")
FIELDS = ",".join(("file_id", "file_name", "file_size", "md5sum", "access", "state", "data_format",
                   "data_type", "experimental_strategy", *CASE_FIELDS))
MD5 = re.compile(r"[0-9a-fA-F]{32}")
PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")     # a name needing no cleaning (every TCGA one)


def list_files(source, session, entry) -> list[RemoteFile]:
    """Every file the source's filters select, with its size, md5 and case metadata."""
    headers = credentials.scoped(credentials.gdc_headers(), API)
    hits = search(session, filters(source, controlled=bool(headers)), describe(source))
    if not hits:
        which = "" if headers else "open-access "
        raise DownloadError(f"the GDC lists no {which}{describe(source, 'files')}.",
                            f"Check the project ids or program in the registry entry ({PORTAL}/projects).")
    remotes = [remote_file(hit, headers) for hit in hits]
    return unique_names(remotes)


def describe(source, noun: str = "") -> str:
    """'Slide Image files (Diagnostic Slide) of TCGA-BRCA', for messages."""
    what = " ".join(filter(None, (source.data_type or DEFAULT_DATA_TYPE, noun)))
    if source.experimental_strategy:
        what += f" ({source.experimental_strategy})"
    where = ", ".join(source.projects or []) or (f"program {source.program}" if source.program else "")
    return f"{what} of {where}" if where else what


def filters(source, controlled: bool) -> dict:
    """The `filters` document: every condition must hold."""
    def field_in(field: str, values) -> dict:
        return {"op": "in", "content": {"field": field, "value": list(values)}}

    conditions = []
    if source.projects:
        conditions.append(field_in("cases.project.project_id", source.projects))
    if source.program:
        conditions.append(field_in("cases.project.program.name", [source.program]))
    conditions.append(field_in("files.data_type", [source.data_type or DEFAULT_DATA_TYPE]))
    if source.experimental_strategy:
        conditions.append(field_in("files.experimental_strategy", [source.experimental_strategy]))
    if not controlled:
        conditions.append(field_in("files.access", ["open"]))
    return {"op": "and", "content": conditions}


def search(session, query: dict, what: str) -> list[dict]:
    """Every hit of a `files` search, page after page (deduplicated by file id)."""
    hits: dict[str, dict] = {}
    offset, total = 0, None
    while total is None or offset < total:
        body = {"filters": query, "fields": FIELDS, "format": "json", "size": str(PAGE_SIZE),
                "from": str(offset), "sort": "file_id:asc"}
        document = api_json(session, f"{API}/files", what=f"the GDC file search ({what})", method="POST",
                            json=body)
        data = document.get("data") if isinstance(document, dict) else None
        page = data.get("hits") if isinstance(data, dict) else None
        if not isinstance(page, list):
            raise DownloadError(f"the GDC file search ({what}) answered without `data.hits`.",
                                "The GDC API may have changed or be down; try again later.")
        total = int((data.get("pagination") or {}).get("total") or 0)
        if not page:
            break
        for hit in page:
            if isinstance(hit, dict) and (hit.get("file_id") or hit.get("id")):
                hits[str(hit.get("file_id") or hit.get("id"))] = hit
        offset += len(page)
    if total and len(hits) < total:
        raise DownloadError(f"the GDC file search ({what}) announced {total} files but its pages held "
                            f"{len(hits)} distinct ones (the data changed while it was listed?).",
                            "Run the same command again.")
    return list(hits.values())


def distinct(values) -> str:
    """Distinct non-empty values joined with ';' (a slide has one case and one sample)."""
    return ";".join(dict.fromkeys(str(v) for v in values if v not in (None, "")))


def metadata(hit: dict) -> dict[str, str]:
    """The file's selectable metadata, as strings (empty values left out)."""
    cases = [c for c in hit.get("cases") or [] if isinstance(c, dict)]
    samples = [s for c in cases for s in c.get("samples") or [] if isinstance(s, dict)]
    fields = {
        "file_id": str(hit.get("file_id") or hit.get("id") or ""),
        "case": distinct(c.get("submitter_id") for c in cases),
        "project": distinct((c.get("project") or {}).get("project_id") for c in cases),
        "sample_type": distinct(s.get("sample_type") for s in samples),
        "experimental_strategy": distinct([hit.get("experimental_strategy")]),
        "primary_site": distinct(c.get("primary_site") for c in cases),
        "disease_type": distinct(c.get("disease_type") for c in cases),
    }
    return {name: value for name, value in fields.items() if value}


def remote_file(hit: dict, headers: dict) -> RemoteFile:
    fields = metadata(hit)
    file_id = fields["file_id"]
    name = hit.get("file_name") or file_id
    md5 = hit.get("md5sum")
    checksums = {"md5": md5.lower()} if isinstance(md5, str) and MD5.fullmatch(md5) else {}
    size = hit.get("file_size")
    project = fields.get("project", "").split(";")[0] or "no-project"
    plain = PLAIN.fullmatch(project) and PLAIN.fullmatch(name)
    return RemoteFile(name=f"{project}/{name}" if plain else remote_name(project, name), url=f"{API}/data/{file_id}",
                      size=int(size) if isinstance(size, (int, float)) or str(size).isdigit() else None,
                      checksums=checksums, checksum_origin="provider" if checksums else None,
                      headers=dict(headers), source_kind=KIND, metadata=fields)


def unique_names(remotes: list[RemoteFile]) -> list[RemoteFile]:
    """A name listed more than once gets its file id as an extra folder, for every file bearing it."""
    seen: dict[str, int] = {}
    for remote in remotes:
        seen[remote.name] = seen.get(remote.name, 0) + 1
    for remote in remotes:
        if seen[remote.name] > 1:
            folder, _, base = remote.name.rpartition("/")
            remote.name = remote_name(folder, remote.metadata["file_id"], base)
    return sorted(remotes, key=lambda r: r.name)
