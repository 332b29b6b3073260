"""`kind: bisque` — a dataset on a BisQue image server (UCSB's bisque2.ece.ucsb.edu and other
installations), read anonymously as BisQue's own Python client (bqapi `fetch_dataset`, `fetch_blob`)
reads it:

- `GET <root>/data_service/<uniq>?view=deep`: the dataset as XML, `<dataset name=... resource_uniq=...>`
  with one `<value type="object">https://<host>/data_service/00-...</value>` per member resource.
- `GET <root>/data_service/<member uniq>`: the member, e.g. `<image name="a.tif" resource_uniq=...>`.
- `GET <root>/blob_service/<member uniq>`: its original file (paste's FileApp: Content-Length, single
  Range requests); a resource that is not public answers 403.

BisQue publishes no checksum: each file's size comes from a one-byte Range GET, files are checked by
size and reported unverified. Members are fetched from the registry's server only (a member URI on
another host is refused). Files land in raw/ under their BisQue names; members that share a name go
to `<uniq>/<name>` so that none is lost.
"""
from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

from ..errors import DownloadError
from .base import RemoteFile, api_get, parallel_map, remote_name, size_from_range_probe, xml_document

SERVICE = "BisQue"
UNIQ = re.compile(r"00-[A-Za-z0-9]+")
WORKERS = 8


def split_dataset_url(url: str) -> tuple[str, str]:
    """(server root, dataset uniq) of `https://host[/prefix]/data_service/00-...`."""
    root, marker, uniq = url.rstrip("/").rpartition("/data_service/")
    if not marker or not UNIQ.fullmatch(uniq):
        raise DownloadError(f"{url} is not a BisQue dataset URL.",
                            "Write the dataset's data_service URL in the registry, e.g. "
                            "https://bisque2.ece.ucsb.edu/data_service/00-a2te7hGatVUeLtvWV74y2R.")
    return root, uniq


def resource_element(document, uniq: str):
    """The element of resource `uniq` in a data_service answer (the root itself, or its child when
    the server wraps the answer in `<resource>`)."""
    for element in document.iter():
        if element.get("resource_uniq") == uniq:
            return element
    raise DownloadError(f"unexpected answer from {SERVICE}: resource {uniq} is not in its own document.",
                        "The server may have changed; try again later or use another source.")


def member_uniqs(dataset, root: str) -> list[str]:
    """The uniqs of the dataset's member resources, in order; a member on another server is refused."""
    uniqs = []
    for value in dataset.iter("value"):
        if value.get("type") != "object":
            continue
        uri = (value.text or "").strip()
        member_root, marker, uniq = uri.rpartition("/data_service/")
        if not marker or not UNIQ.fullmatch(uniq):
            raise DownloadError(f"unexpected answer from {SERVICE}: a dataset member is {uri[:80]!r}.",
                                "The server may have changed; try again later or use another source.")
        if urlsplit(member_root).netloc != urlsplit(root).netloc:
            raise DownloadError(f"{SERVICE} dataset member {uniq} is on another server ({uri[:80]}).",
                                "histodata fetches only from the registry's server; report the entry.")
        uniqs.append(uniq)
    return uniqs


def fetch_xml(session, url: str, what: str, **params):
    return xml_document(api_get(session, url, what=what, params=params or None).content, what)


def member_name(session, root: str, uniq: str) -> str:
    element = resource_element(fetch_xml(session, f"{root}/data_service/{uniq}", f"{SERVICE} resource {uniq}"),
                               uniq)
    return element.get("name") or uniq


def unique_names(names: list[str], uniqs: list[str]) -> list[str]:
    """Safe relative names; members sharing a name each go under their own uniq."""
    safe = [remote_name(name) for name in names]
    repeated = {name for name, times in Counter(safe).items() if times > 1}
    return [remote_name(uniq, name) if name in repeated else name for name, uniq in zip(safe, uniqs, strict=True)]


def list_files(source, session, entry) -> list[RemoteFile]:
    root, dataset_uniq = split_dataset_url(str(source.dataset))
    dataset = resource_element(fetch_xml(session, f"{root}/data_service/{dataset_uniq}",
                                         f"{SERVICE} dataset {dataset_uniq}", view="deep"), dataset_uniq)
    uniqs = member_uniqs(dataset, root)
    if not uniqs:
        raise DownloadError(f"{SERVICE} dataset {dataset_uniq} ({dataset.get('name', '')}) has no members.",
                            "The dataset may have been emptied or moved; try another source.")
    names = unique_names(parallel_map(lambda uniq: member_name(session, root, uniq), uniqs, workers=WORKERS),
                         uniqs)
    remotes = [RemoteFile(name=name, url=f"{root}/blob_service/{uniq}", source_kind="bisque",
                          metadata={"resource": uniq, "dataset": dataset_uniq})
               for name, uniq in zip(names, uniqs, strict=True)]
    sizes = parallel_map(lambda remote: size_from_range_probe(session, remote.url), remotes, workers=WORKERS)
    for remote, size in zip(remotes, sizes, strict=True):
        remote.size = size
    return remotes
