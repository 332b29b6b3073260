"""Croissant 1.0 (MLCommons) JSON-LD for registry entries and local standardized datasets.

    entry_croissant(entry) -> Croissant           # what the registry knows: no network
    local_croissant(entry, paths, columns) -> Croissant   # + the manifest as the `samples` record set
    write_croissant(entry, paths)                 # <id>/croissant.json, after fetch standardized

`Croissant.jsonld` is the document, `Croissant.missing` names what the entry does not say (no
license, no citation, no file known, ...): the document stays valid without them, and the callers
warn. Pinned files with a URL and a checksum are `FileObject`s; files a provider lists at fetch
time (or whose URL or checksum is not pinned) are `FileSet`s; gated sources say how access works.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from .layout import DatasetPaths, dataset_paths
from .record import DatasetRecord
from .redact import redact
from .registry.kinds import KINDS
from .registry.loader import load_registry
from .temporaries import beside

log = logging.getLogger(__name__)

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "citeAs": "cr:citeAs", "column": "cr:column",
    "conformsTo": "dct:conformsTo", "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty", "examples": {"@id": "cr:examples", "@type": "@json"}, "extract": "cr:extract", "field": "cr:field",
    "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject", "fileSet": "cr:fileSet",
    "format": "cr:format", "includes": "cr:includes", "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5", "parentField": "cr:parentField",
    "path": "cr:path", "recordSet": "cr:recordSet", "references": "cr:references", "regex": "cr:regex",
    "repeated": "cr:repeated", "replace": "cr:replace", "samplingRate": "cr:samplingRate", "sc": "https://schema.org/",
    "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField", "transform": "cr:transform",
}
# Media types by file name ending (the longest ending wins); anything else is application/octet-stream.
MEDIA_TYPES = {".zip": "application/zip", ".tar": "application/x-tar", ".tar.gz": "application/x-gzip",
               ".tgz": "application/x-gzip", ".gz": "application/gzip", ".7z": "application/x-7z-compressed",
               ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".tif": "image/tiff",
               ".tiff": "image/tiff", ".bmp": "image/bmp", ".svs": "image/tiff", ".csv": "text/csv",
               ".tsv": "text/tab-separated-values", ".txt": "text/plain", ".json": "application/json",
               ".geojson": "application/geo+json", ".xml": "application/xml", ".h5": "application/x-hdf5",
               ".hdf5": "application/x-hdf5", ".npy": "application/x-npy", ".mat": "application/x-matlab-data",
               ".parquet": "application/x-parquet", ".dcm": "application/dicom", ".md5": "text/plain"}
UNKNOWN_TYPE = "application/octet-stream"
# Croissant data types of the manifest's columns (pandas dtypes of `manifest_frame`).
DATA_TYPES = (("Int", "sc:Integer"), ("int", "sc:Integer"), ("float", "sc:Float"), ("double", "sc:Float"),
              ("bool", "sc:Boolean"))
SPLIT_URLS = {"train": "cr:TrainingSplit", "training": "cr:TrainingSplit", "validation": "cr:ValidationSplit",
              "val": "cr:ValidationSplit", "test": "cr:TestSplit"}
# License ids whose SPDX page is a safe `license` URL when the entry names no license_url.
SPDX_LICENSE = re.compile(r"CC0-1\.0|CC-BY(-NC)?(-SA|-ND)?-[0-9]\.[0-9]|MIT|Apache-2\.0|(ODbL|PDDL|ODC-By)-1\.0")
COLUMN_TEXT = {"sample_id": "unique id of the sample", "split": "the split (train, validation, test, ...)",
               "image": "image file, relative to the dataset folder", "label": "class name",
               "mask": "label mask file, relative to the dataset folder",
               "annotation": "QuPath-compatible GeoJSON, relative to the dataset folder"}


@dataclass
class Croissant:
    jsonld: dict
    missing: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The JSON text, with anything secret-looking redacted (as in every file histodata writes)."""
        return redact(json.dumps(self.jsonld, indent=1, ensure_ascii=False))

    def warn(self, dataset_id: str, level: int = logging.WARNING) -> None:
        """One message naming what the entry does not say (nothing when it says everything): a
        warning for `histodata croissant`, the debug log when a fetch writes the file."""
        if self.missing:
            log.log(level, "the Croissant file of %s lacks %s (the registry entry does not say); it is valid "
                        "without them.", dataset_id, ", ".join(self.missing))


def media_type(name: str) -> str:
    lower = name.lower()
    endings = sorted((e for e in MEDIA_TYPES if lower.endswith(e)), key=len, reverse=True)
    return MEDIA_TYPES[endings[0]] if endings else UNKNOWN_TYPE


def file_url(source: dict, spec: dict) -> str | None:
    """Where a pinned file's bytes are, before the mirror map (None when only the service knows)."""
    if spec.get("url"):
        return spec["url"]
    kind, name = source.get("kind"), spec.get("name", "")
    if kind == "zenodo" and source.get("record"):
        return f"https://zenodo.org/records/{source['record']}/files/{quote(name)}"
    if kind == "gdrive" and spec.get("id"):
        return f"https://drive.google.com/uc?id={quote(str(spec['id']))}&export=download"
    if kind == "figshare" and spec.get("id"):
        return f"https://ndownloader.figshare.com/files/{quote(str(spec['id']))}"
    return None


def _node_id(*parts: str) -> str:
    return "/".join(quote(str(p), safe="-_.") for p in parts)


def bibtex_field(citation: str | None, name: str) -> str | None:
    """The value of a field of the first BibTeX entry (braces balanced, or quoted), or None."""
    match = re.search(rf"\b{name}\s*=\s*([{{\"])", citation or "", flags=re.IGNORECASE)
    if not match:
        return None
    text, start = citation, match.end()
    if match.group(1) == '"':
        end = text.find('"', start)
        return text[start:end] if end >= 0 else None
    depth = 1
    for position in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[position], 0)
        if depth == 0:
            return text[start:position]
    return None


def creators(citation: str | None) -> list[dict]:
    """The authors of the citation's first BibTeX entry ("others" left out), as schema.org Persons."""
    people = []
    for author in re.split(r"\s+and\s+", " ".join((bibtex_field(citation, "author") or "").split())):
        author = re.sub(r"\\[a-zA-Z]+\s*|\\.|[{}]", "", author).strip()
        if not author or author.lower() == "others":
            continue
        last, comma, first = author.partition(",")
        name = f"{first.strip()} {last.strip()}".strip() if comma else last
        people.append({"@type": "sc:Person", "name": name})
    return people


def _distribution(entry: dict) -> list[dict]:
    """A FileObject per pinned file with a URL and a checksum, a FileSet for the rest of each source."""
    nodes = []
    sources = entry.get("sources") or []
    for n, source in enumerate(sources, 1):
        kind = source.get("kind", "")
        row = KINDS.get(kind)
        by_hand = row is not None and not row.automatic
        how = ("by hand: see conditionsOfAccess, then histodata fetch ID --from DIR" if by_hand
               else f"from {kind}")
        mirror = f"source {n} of {len(sources)} ({how})"
        rest = []
        for spec in source.get("files") or []:
            url = file_url(source, spec)
            sums = {a: spec[a] for a in ("md5", "sha256") if spec.get(a)}
            if url and sums and not by_hand:
                node = {"@type": "cr:FileObject", "@id": _node_id(f"source-{n}", spec["name"]),
                        "name": spec["name"], "description": f"{spec['name']}, {mirror}",
                        "contentUrl": url, "encodingFormat": media_type(spec["name"]), **sums}
                if spec.get("size") is not None:
                    node["contentSize"] = f"{spec['size']} B"
                nodes.append(node)
            else:
                rest.append(spec["name"])
        if rest or not source.get("files"):
            include = source.get("include")
            patterns = rest or ([include] if isinstance(include, str) else list(include or [])) or ["**"]
            if rest:
                listed = "files named by the registry" + ("" if by_hand else ", without a pinned URL or checksum")
            else:
                listed = "files a person downloads" if by_hand else "files the service lists at fetch time"
            formats = sorted({media_type(p) for p in patterns})
            nodes.append({"@type": "cr:FileSet", "@id": f"source-{n}", "name": f"source-{n}",
                          "description": f"{mirror}: {listed}", "includes": patterns,
                          "encodingFormat": formats if len(formats) > 1 else formats[0]})
    return nodes


def entry_croissant(entry: dict) -> Croissant:
    """The Croissant document of a registry entry (a plain entry dict, as `info --json` prints)."""
    missing = []
    doc: dict = {"@context": CONTEXT, "@type": "sc:Dataset", "conformsTo": CONFORMS_TO,
                 "name": entry.get("name") or entry["id"],
                 "alternateName": [entry["id"], *entry.get("aliases", [])]}
    doc["description"] = " ".join((entry.get("summary") or "").split()) or entry.get("name") or entry["id"]
    if not entry.get("summary"):
        missing.append("a description (summary)")
    doi = entry.get("doi")
    url = entry.get("homepage") or (f"https://doi.org/{doi}" if doi else None) or entry.get("paper")
    if url:
        doc["url"] = url
    else:
        missing.append("a url (homepage, doi or paper)")
    if doi:
        doc["identifier"] = f"https://doi.org/{doi}"
        doc["sameAs"] = f"https://doi.org/{doi}"
    license_name = entry.get("license") or "unknown"
    if license_name.lower() != "unknown":
        spdx = SPDX_LICENSE.fullmatch(license_name)
        doc["license"] = entry.get("license_url") or (f"https://spdx.org/licenses/{license_name}.html" if spdx
                                                      else license_name)
    else:
        missing.append("a license")
    if entry.get("citation"):
        doc["citeAs"] = entry["citation"].strip()
    else:
        missing.append("a citation")
    people = creators(entry.get("citation"))
    if people:
        doc["creator"] = people
    if entry.get("year"):
        doc["datePublished"] = str(entry["year"])
    keywords = [*entry.get("organs", []), *entry.get("stains", []), *entry.get("tasks", []),
                entry.get("modality", ""), "histopathology"]
    doc["keywords"] = [k for k in dict.fromkeys(keywords) if k]
    versions = [str(s["version"]) for s in entry.get("sources") or [] if s.get("version") is not None]
    if versions:
        doc["version"] = versions[0]
    if entry.get("paper"):
        doc["citation"] = entry["paper"]
    access = entry.get("access", "open")
    doc["isAccessibleForFree"] = access in ("open", "registration")
    if access != "open":
        doc["conditionsOfAccess"] = f"{access}: " + " ".join((entry.get("instructions") or "").split())
    doc["distribution"] = _distribution(entry)
    if not doc["distribution"]:
        missing.append("any file or download source")
    return Croissant(doc, missing)


def data_type(dtype: str) -> str:
    for start, name in DATA_TYPES:
        if dtype.startswith(start):
            return name
    return "sc:Text"


def split_record_set(splits: list[str]) -> dict:
    """The manifest's split names as a Croissant `cr:Split` record set (what `samples/split` references)."""
    data = [{"splits/name": name, **({"splits/url": SPLIT_URLS[name]} if name in SPLIT_URLS else {})}
            for name in splits]
    return {"@type": "cr:RecordSet", "@id": "splits", "name": "splits", "dataType": "cr:Split",
            "description": "the splits of the manifest", "key": {"@id": "splits/name"},
            "field": [{"@type": "cr:Field", "@id": "splits/name", "name": "name", "dataType": "sc:Text"},
                      {"@type": "cr:Field", "@id": "splits/url", "name": "url", "dataType": "sc:URL"}],
            "data": data}


def local_croissant(entry: dict, paths: DatasetPaths, columns: list[tuple[str, str]],
                    folder: Path | None = None, splits: list[str] | None = None) -> Croissant:
    """The entry's document plus the local manifest (a FileObject) and its rows as the `samples`
    record set. `columns` are (name, pandas dtype) of the manifest; `splits` the split names (a
    `cr:Split` record set that `samples/split` references); `folder` is where the document will
    live (the manifest's URL is relative to it when it is the dataset folder, else absolute)."""
    result = entry_croissant(entry)
    manifest = paths.manifest
    here = folder is not None and Path(folder).resolve() == paths.base.resolve()
    result.jsonld["distribution"].append({
        "@type": "cr:FileObject", "@id": "manifest", "name": manifest.name,
        "description": "the standardized manifest: one row per sample (histodata's local layout)",
        "contentUrl": manifest.name if here else str(manifest.resolve()),
        "contentSize": f"{manifest.stat().st_size} B", "encodingFormat": "application/x-parquet",
        "sha256": sha256_of(manifest)})
    fields = [{"@type": "cr:Field", "@id": f"samples/{_node_id(name)}", "name": name,
               "description": COLUMN_TEXT.get(name, f"manifest column {name}"), "dataType": data_type(dtype),
               "source": {"fileObject": {"@id": "manifest"}, "extract": {"column": name}}}
              for name, dtype in columns]
    samples = {"@type": "cr:RecordSet", "@id": "samples", "name": "samples",
               "description": "one record per sample of the local standardized dataset",
               "key": {"@id": "samples/sample_id"}, "field": fields}
    result.jsonld["recordSet"] = [samples]
    if splits and "split" in dict(columns):
        result.jsonld["recordSet"].append(split_record_set(splits))
        next(f for f in fields if f["name"] == "split")["references"] = {"field": {"@id": "splits/name"}}
    return result


def dataset_croissant(dataset_id: str, root=None, folder: Path | None = None) -> Croissant:
    """The document for `histodata croissant ID`: the registry entry's, plus the manifest as a record
    set when the dataset is standardized under `root`. `folder` is where it will be written."""
    entry = load_registry().get_dict(dataset_id)
    paths = dataset_paths(entry["id"], root)
    if not (DatasetRecord.read(paths).standardized and paths.manifest.is_file()):
        return entry_croissant(entry)
    return on_disk(entry, paths, folder)


def on_disk(entry: dict, paths: DatasetPaths, folder: Path | None) -> Croissant:
    """local_croissant with the columns of the manifest on disk."""
    import pyarrow.parquet as pq  # heavy: pyarrow, imported on first use

    schema = pq.read_schema(paths.manifest)
    counts = DatasetRecord.read(paths).standardized.get("splits") or {}
    columns = [(name, str(schema.field(name).type)) for name in schema.names]
    return local_croissant(entry, paths, columns, folder, [str(name) for name in counts if name != "(none)"])


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_croissant(entry: dict, paths: DatasetPaths) -> Path | None:
    """Write `<id>/croissant.json` beside the standardized manifest (atomically); warn about what is
    missing. A failed write is a warning: the dataset itself is complete."""
    result = on_disk(entry, paths, paths.base)
    target = paths.croissant
    tmp = beside(target)
    try:
        tmp.write_text(result.text() + "\n", encoding="utf-8")
        os.replace(tmp, target)
    except OSError as err:
        log.warning("could not write %s: %s; `histodata croissant %s` prints it.", target,
                    err.strerror or err, paths.id)
        return None
    finally:
        tmp.unlink(missing_ok=True)
    result.warn(paths.id, logging.DEBUG)      # a fetch is not the place to audit the registry entry
    return target


__all__ = ["Croissant", "dataset_croissant", "entry_croissant", "local_croissant", "write_croissant"]
