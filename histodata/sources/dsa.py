"""Digital Slide Archive (large_image) extras of a Girder source: region crops and annotations.

Region crops reproduce the BCSS download script (CrowdsourcingDataset-Amgadetal2019) exactly:
`item/{id}/tiles/region?left=&right=&top=&bottom=` in base pixels plus `&mm_x=%.4f&mm_y=%.4f`
(mm = MPP / 1000, so MPP 0.23 is *requested* as 0.0002 mm, as BCSS did) or `&magnification=%.2f`;
the server's JPEG is decoded and saved as PNG under `{roi}_xmin{x}_ymin{y}_MPP-{mpp:.4f}.png`
(`MAG-{mag:.2f}`, or `MAG-0` at base resolution). Annotations: `annotation/item/{id}` saved raw.

Registry fields of the girder source:

    regions:
      mpp: 0.25                 # or magnification: 20; neither = base resolution
      dir: images               # folder under raw/ (default images)
      encoding: JPEG            # what to ask the server for (BCSS: JPEG, then saved as PNG)
      rois:
        - {name: TCGA-A1-A0SK-DX1, xmin: 45749, ymin: 25055, xmax: 50225, ymax: 29307}
          # the slide: `item` (id), else the item whose name starts with `slide`, else with name[:12]
    annotations: {dir: annotations}   # or `true`; optional `items: [ids]` (default: every item)
    slides: false               # also list the slide files themselves (default: only without extras)
"""
from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urlencode

from ..errors import DownloadError
from ..transfer import download as engine_download
from .. import temporaries
from . import untrusted
from .base import RemoteFile, remote_name, verify_local_file

SERVICE = "Girder"
BCSS_KEY_LENGTH = 12          # BCSS matches ROIs to slides by the first 12 characters (TCGA-XX-XXXX)


def _option(source, name: str):
    return getattr(source, name, None)


def wants_slides(source) -> bool:
    """The slide files are listed unless the source only asks for crops and annotations."""
    slides = _option(source, "slides")
    if slides is not None:
        return bool(slides)
    return not (_option(source, "regions") or _option(source, "annotations"))


def extra_files(conn, source) -> list[RemoteFile]:
    """The region crops and annotation documents the source asks for."""
    regions, annotations = _option(source, "regions"), _option(source, "annotations")
    if not regions and not annotations:
        return []
    items = _source_items(conn, source)
    files = region_files(conn, regions, items) if regions else []
    if annotations:
        files += annotation_files(conn, {} if annotations is True else dict(annotations), items)
    return files


def _source_items(conn, source) -> list[dict]:
    """The items the extras refer to: the source's item, or the items of its folder or path."""
    if source.item:
        return [_checked(conn.get(f"item/{source.item}", what="item"))]
    folder = source.folder
    if not folder:
        document = untrusted.document(conn.get("resource/lookup", {"path": source.path},
                                               what=f"looking up {source.path}"), SERVICE, source.path)
        if document.get("_modelType") == "item":
            return [_checked(document)]
        folder = untrusted.identifier(document, "_id", SERVICE, what=f"the _id of {source.path}")
    return [_checked(item) for item in conn.pages("item", {"folderId": folder}, what="listing slides")]


def _checked(item) -> dict:
    """An item document with a text `name` and an `_id` (what crops and annotations use)."""
    item = untrusted.document(item, SERVICE, "an item")
    untrusted.identifier(item, "_id", SERVICE, what="an item's _id")
    untrusted.text(item, "name", SERVICE, what="an item's name", required=True)
    return item


# ----------------------------------------------------------------------------- region crops
def region_suffix(mpp: float | None, magnification: float | None) -> str:
    """BCSS's resolution tag: MPP-0.2500, MAG-20.00, or MAG-0 at base resolution."""
    if mpp:
        return f"MPP-{mpp:.4f}"
    if magnification:
        return f"MAG-{magnification:.2f}"
    return "MAG-0"


def region_query(roi: dict, mpp: float | None, magnification: float | None, encoding: str | None) -> str:
    """The tiles/region query exactly as the BCSS script builds it (%d bounds, %.4f mm, %.2f mag)."""
    left, right, top, bottom = (int(roi[k]) for k in ("xmin", "xmax", "ymin", "ymax"))   # %d truncates
    query = f"left={left}&right={right}&top={top}&bottom={bottom}"
    if mpp:
        query += f"&mm_x={mpp * 1e-3:.4f}&mm_y={mpp * 1e-3:.4f}"
    elif magnification:
        query += f"&magnification={magnification:.2f}"
    if encoding and encoding.upper() != "JPEG":
        query += "&" + urlencode({"encoding": encoding.upper()})
    return query


def region_files(conn, regions: dict, items: list[dict]) -> list[RemoteFile]:
    mpp, magnification = regions.get("mpp"), regions.get("magnification")
    folder = regions.get("dir", "images")
    files = []
    for roi in regions.get("rois") or []:
        item_id = roi.get("item") or _item_for(roi, items)["_id"]
        suffix = region_suffix(mpp, magnification)
        name = f"{roi['name']}_xmin{int(roi['xmin'])}_ymin{int(roi['ymin'])}_{suffix}.png"
        url = f"{conn.api_url}/item/{item_id}/tiles/region?" + region_query(
            roi, mpp, magnification, regions.get("encoding"))
        files.append(RemoteFile(name=remote_name(folder, name), url=url, headers=conn.headers,
                                source_kind="girder", downloader="girder"))
    return files


def _item_for(roi: dict, items: list[dict]) -> dict:
    prefix = roi.get("slide") or roi["name"][:BCSS_KEY_LENGTH]
    for item in sorted(items, key=lambda i: i["name"]):
        if item["name"].startswith(prefix):
            return item
    raise DownloadError(f"no slide on the Girder server matches the region {roi['name']!r} "
                        f"(looked for an item named {prefix}...).",
                        "Give the region an `item` id in the registry entry.")


# ----------------------------------------------------------------------------- annotations
def annotation_files(conn, options: dict, items: list[dict]) -> list[RemoteFile]:
    """`annotation/item/{id}` (every full annotation of a slide) saved raw as <slide>.json."""
    wanted = {str(i) for i in options.get("items") or []}
    folder = options.get("dir", "annotations")
    return [RemoteFile(name=remote_name(folder, PurePosixPath(item["name"]).stem + ".json"),
                       url=f"{conn.api_url}/annotation/item/{item['_id']}", headers=conn.headers,
                       source_kind="girder")
            for item in items if not wanted or item["_id"] in wanted]


# ----------------------------------------------------------------------------- download
def download(remote: RemoteFile, path, session=None, *, quiet=None, **kwargs):
    """Fetch a region crop through the engine, then save it as PNG (as BCSS did) and verify the
    PNG against the registry's checksums, if any."""
    path = Path(path)
    work_dir = kwargs.get("work_dir")   # bookkeeping and the undecoded crop stay out of raw/
    encoded = (Path(work_dir) if work_dir else path.parent) / (path.name + ".region")
    fetched = engine_download(remote.url, encoded, headers=remote.headers, session=session, quiet=quiet,
                              work_dir=work_dir)
    _save_as_png(encoded, path)
    return verify_local_file(path, remote, resumed_from=fetched.resumed_from)


def _save_as_png(encoded: Path, target: Path) -> None:
    """Decode the server's image and write PNG atomically; PNG bytes are kept as they are."""
    from PIL import Image, UnidentifiedImageError  # heavy: imported on first use

    with open(encoded, "rb") as handle:
        is_png = handle.read(8) == b"\x89PNG\r\n\x1a\n"
    if is_png:
        os.replace(encoded, target)
        return
    temporaries.reclaim(target.parent)
    partial = temporaries.beside(target)
    try:
        with Image.open(encoded) as image:
            image.convert("RGB").save(partial, format="PNG")
    except Image.DecompressionBombError as err:
        partial.unlink(missing_ok=True)
        claimed = re.search(r"\(([0-9]+) pixels\)", str(err))   # Pillow's message: "Image size (N pixels) ..."
        pixels = f"{int(claimed.group(1)):,} pixels" if claimed else "too many pixels"
        raise DownloadError(f"the Girder server's region answer for {target.name} claims {pixels}, more than "
                            f"histodata decodes ({2 * Image.MAX_IMAGE_PIXELS:,}); nothing was saved.",
                            "Ask for a smaller region or a coarser resolution (`mpp` or `magnification` under "
                            "`regions` in the registry entry).") from None
    except (UnidentifiedImageError, OSError) as err:
        partial.unlink(missing_ok=True)
        raise DownloadError(f"the Girder server's region answer for {target.name} is not an image ({err}).",
                            "The item may not be a large image on this server.") from None
    finally:
        encoded.unlink(missing_ok=True)
    os.replace(partial, target)
