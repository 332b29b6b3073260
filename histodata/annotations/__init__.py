"""Annotation readers (ASAP XML, Aperio/ImageScope XML, DSA/Girder JSON, QuPath GeoJSON of every
version) and the one output: QuPath-compatible GeoJSON FeatureCollections in level-0 pixels.

    features = read_annotations("tumor_001.xml")        # format detected from the content
    write_geojson(features, "tumor_001.geojson")
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .. import temporaries
from .aperio import read_aperio
from .asap import read_asap
from .dsa import looks_like_dsa, read_dsa
from .geometry import AnnotationFormatError, feature_collection
from .qupath import looks_like_geojson, read_qupath
from .xmlsafe import parse_xml

__all__ = ["AnnotationFormatError", "FORMATS", "detect_format", "read_annotations", "write_geojson",
           "convert"]

FORMATS = ("asap", "aperio", "dsa", "qupath")
MAX_BYTES = 1 << 30


def _load_json(data: bytes, label: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise AnnotationFormatError(f"{label}: not valid JSON ({str(err)[:120]}).") from err


def detect_format(data: bytes, label: str = "input") -> tuple[str, Any]:
    """('asap'|'aperio'|'dsa'|'qupath', parsed document) from the bytes of an annotation file."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        root = parse_xml(data, label)
        if root.tag == "ASAP_Annotations":
            return "asap", root
        if root.tag == "Annotations":
            return "aperio", root
        raise AnnotationFormatError(f"{label}: XML root <{root.tag[:40]}> is neither ASAP "
                                    "(<ASAP_Annotations>) nor Aperio ImageScope (<Annotations>).")
    if head in (b"{", b"["):
        document = _load_json(data, label)
        if looks_like_geojson(document):
            return "qupath", document
        if looks_like_dsa(document):
            return "dsa", document
        if document == [] or (isinstance(document, dict) and document.get("elements") == []):
            return "dsa", document
        raise AnnotationFormatError(f"{label}: JSON that is neither GeoJSON (QuPath) nor a DSA/Girder "
                                    "annotation (an object with `elements` or `annotation`).")
    raise AnnotationFormatError(f"{label}: not an annotation file (expected XML or JSON).")


def _parse(kind: str, document: Any, label: str) -> list[dict]:
    reader = {"asap": read_asap, "aperio": read_aperio, "dsa": read_dsa, "qupath": read_qupath}[kind]
    try:
        return reader(document, label)
    except AnnotationFormatError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError) as err:
        raise AnnotationFormatError(f"{label}: malformed {kind} annotation ({type(err).__name__}: "
                                    f"{str(err)[:120]}).") from err


def read_annotations(source: str | os.PathLike | bytes, format: str | None = None) -> list[dict]:  # noqa: A002
    """QuPath-style features from a file path or bytes; `format` forces one of FORMATS."""
    if isinstance(source, bytes):
        data, label = source, "input"
    else:
        path = Path(source)
        label = path.name
        try:
            if path.stat().st_size > MAX_BYTES:
                raise AnnotationFormatError(f"{label}: larger than {MAX_BYTES} bytes; not an annotation file?")
            data = path.read_bytes()
        except OSError as err:
            raise AnnotationFormatError(f"cannot read {path}: {err.strerror or err}.") from err
    try:
        kind, document = detect_format(data, label)
    except (TypeError, ValueError, AttributeError, RecursionError) as err:
        if isinstance(err, AnnotationFormatError):
            raise
        raise AnnotationFormatError(f"{label}: not a recognised annotation file ({str(err)[:120]}).") from err
    if format and format != kind:
        raise AnnotationFormatError(f"{label}: looks like {kind}, not {format}.")
    return _parse(kind, document, label)


def write_geojson(features: list[dict], path: str | os.PathLike) -> Path:
    """Write a FeatureCollection atomically (QuPath 0.4+ reads it with File > Import objects)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporaries.reclaim(path.parent)
    tmp = temporaries.beside(path)
    tmp.write_text(json.dumps(feature_collection(features), ensure_ascii=False, allow_nan=False))
    os.replace(tmp, path)
    return path


def convert(source: str | os.PathLike, output: str | os.PathLike) -> list[dict]:
    """Read any supported annotation file and write it as QuPath-compatible GeoJSON."""
    features = read_annotations(source)
    write_geojson(features, output)
    return features
