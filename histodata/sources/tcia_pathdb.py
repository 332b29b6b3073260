"""`kind: tcia-pathdb` — one collection of The Cancer Imaging Archive's pathology database (PathDB,
a Drupal site): slide files (.svs, .tif) listed anonymously through its JSON views.

- `GET /collections?_format=json`: every collection, `[{"tid": [{"value": 10}], "name": [{"value":
  "Prostate_MRI"}], ...}]` (unpaged). Collections are keyed on the numeric `tid`: names drift (term
  `Biobank_CRC` holds images whose `studyid` is `CMB_CRC`).
- `GET /listofimages/<tid>?_format=json&page=N`: the collection's images, pages from 0 until a page is
  an empty list `[]`. Every field is a Drupal list of one-element objects: `clinicaltrialsubjectid`,
  `imageid`, `imagedvolumewidth`/`height`, `referencepixelphysicalvaluex`/`y` (µm per pixel, 0 when
  unknown) and `field_wsiimage[0].url`, the file, given as `http://` and fetched over https.
- No size and no checksum is published, and a HEAD has no Content-Length: each file's size comes from
  a one-byte Range GET (`Content-Range: bytes 0-0/<total>`). Files are size-checked and reported
  unverified.

Files land in raw/ as `<subject id>/<file name>`.
"""
from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

from ..errors import DownloadError
from .base import RemoteFile, api_json, parallel_map, remote_name, size_from_range_probe

API = "https://pathdb.cancerimagingarchive.net"
MAX_PAGES = 10_000          # a server that never answers [] is a fault, not an endless listing
PROBE_WORKERS = 8


def value(record: dict, key: str, inner: str = "value"):
    """The value of a Drupal field (a list of one-element objects), or None."""
    items = record.get(key)
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0].get(inner)
    return None


def collection_name(session, collection_id: str) -> str:
    """The name of collection `tid`; an unknown id is an error listing a few known ones."""
    terms = api_json(session, f"{API}/collections", what="TCIA PathDB collections",
                     params={"_format": "json"})
    if not isinstance(terms, list):
        raise DownloadError("TCIA PathDB's collection list is not a JSON list.",
                            "The service may have changed; try again later or use another source.")
    names = {str(value(t, "tid")): str(value(t, "name")) for t in terms if isinstance(t, dict)}
    if collection_id not in names:
        known = ", ".join(f"{tid} {name}" for tid, name in sorted(names.items())[:8])
        raise DownloadError(f"TCIA PathDB has no collection with id {collection_id} (e.g. {known}).",
                            "Check the registry entry's collection_id against "
                            f"{API}/collections?_format=json.")
    return names[collection_id]


def images(session, collection_id: str) -> list[dict]:
    """Every image record of the collection: pages from 0 until an empty list."""
    records: list[dict] = []
    for page in range(MAX_PAGES):
        batch = api_json(session, f"{API}/listofimages/{collection_id}",
                         what=f"TCIA PathDB collection {collection_id}, page {page}",
                         params={"_format": "json", "page": str(page)})
        if not isinstance(batch, list):
            raise DownloadError(f"TCIA PathDB collection {collection_id}, page {page}: the answer is not "
                                "a JSON list of images.",
                                "The service may have changed; try again later or use another source.")
        if not batch:
            return records
        records += [r for r in batch if isinstance(r, dict)]
    raise DownloadError(f"TCIA PathDB collection {collection_id} did not end after {MAX_PAGES} pages.",
                        "Try again later or use another source.")


def https(url: str) -> str:
    """PathDB gives its file URLs as http://; the files are served over https."""
    return "https://" + url[len("http://"):] if url.lower().startswith("http://") else url


def remote_file(record: dict, collection: str, collection_id: str) -> RemoteFile | None:
    url = value(record, "field_wsiimage", "url")
    if not url:
        return None
    subject = value(record, "clinicaltrialsubjectid") or value(record, "imageid") or "unknown-subject"
    base_name = posixpath.basename(unquote(urlsplit(url).path))
    fields = {"collection": collection, "collection_id": collection_id, "patient": subject,
              "image": value(record, "imageid"), "width": value(record, "imagedvolumewidth"),
              "height": value(record, "imagedvolumeheight")}
    for axis in ("x", "y"):
        size = value(record, f"referencepixelphysicalvalue{axis}")
        if isinstance(size, (int, float, str)) and _positive(size):
            fields[f"mpp_{axis}"] = size
    return RemoteFile(name=remote_name(str(subject), base_name), url=https(url), source_kind="tcia-pathdb",
                      metadata={k: str(v) for k, v in fields.items() if v not in (None, "")})


def _positive(number) -> bool:
    try:
        return float(number) > 0
    except ValueError:
        return False


def list_files(source, session, entry) -> list[RemoteFile]:
    collection_id = str(source.collection_id)
    collection = collection_name(session, collection_id)
    records = images(session, collection_id)
    remotes = [r for r in (remote_file(rec, collection, collection_id) for rec in records) if r is not None]
    if not remotes:
        raise DownloadError(f"TCIA PathDB collection {collection_id} ({collection}) lists no image files.",
                            "The collection may be empty or withdrawn; try another source.")
    sizes = parallel_map(lambda remote: size_from_range_probe(session, remote.url), remotes, workers=PROBE_WORKERS)
    for remote, size in zip(remotes, sizes, strict=True):
        remote.size = size
    return remotes
