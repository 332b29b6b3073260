"""A provider's answers are untrusted input: typed accessors for the fields of its JSON (or XML)
documents. A field of the wrong type is a DownloadError "unexpected answer from <service>: <field>
is ...", which makes the fetch try the entry's next source, never a crash.

    size = count(doc, "size", "Zenodo", what="the size of a file")     # None when absent
    name = text(doc, "key", "Zenodo", required=True)
    links = mapping(doc, "links", "Zenodo")                              # {} when absent
"""
from __future__ import annotations

import json
from typing import Any

from ..errors import DownloadError

HINT = ("Its API may have changed, or something else answered in its place; try again later, or use "
        "another source of the entry.")


def describe(value: Any) -> str:
    """A value as a person reads it in an error: short, with its JSON type."""
    kinds = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
             dict: "an object", type(None): "null"}
    try:
        shown = json.dumps(value, ensure_ascii=True, default=repr)
    except ValueError:
        shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"{shown} ({kinds.get(type(value), type(value).__name__)})"


def answer_error(service: str, what: str, said: str) -> DownloadError:
    return DownloadError(f"unexpected answer from {service}: {what} {said}.", HINT)


def _field(obj: Any, key: str, service: str, what: str | None) -> tuple[Any, str]:
    what = what or f"the field {key!r}"
    if not isinstance(obj, dict):
        raise answer_error(service, f"the object holding {what}", f"is {describe(obj)}, not an object")
    return obj.get(key), what


def document(value: Any, service: str, what: str = "the answer") -> dict:
    """`value` itself, which must be a JSON object."""
    if not isinstance(value, dict):
        raise answer_error(service, what, f"is {describe(value)}, not an object")
    return value


def records(value: Any, service: str, what: str = "the listing") -> list[dict]:
    """`value` itself, which must be a list of JSON objects (None: an empty list)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise answer_error(service, what, f"is {describe(value)}, not a list")
    for record in value:
        if not isinstance(record, dict):
            raise answer_error(service, f"an entry of {what}", f"is {describe(record)}, not an object")
    return value


def text(obj: Any, key: str, service: str, *, what: str | None = None, required: bool = False) -> str | None:
    """A text field (None when absent or empty, unless `required`)."""
    value, what = _field(obj, key, service, what)
    if value is None or value == "":
        if required:
            raise answer_error(service, what, "is missing")
        return None
    if not isinstance(value, str):
        raise answer_error(service, what, f"is {describe(value)}, not text")
    return value


def identifier(obj: Any, key: str, service: str, *, what: str | None = None, required: bool = True) -> str | None:
    """An id: text or a whole number, as text."""
    value, what = _field(obj, key, service, what)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text(obj, key, service, what=what, required=required)


def count(obj: Any, key: str, service: str, *, what: str | None = None) -> int | None:
    """A size or count: a whole number >= 0, or its decimal text (protobuf's JSON writes int64 as
    text, S3's XML has only text); None when absent."""
    value, what = _field(obj, key, service, what)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise answer_error(service, what, f"is {describe(value)}, not a size")
    return value


def mapping(obj: Any, key: str, service: str, *, what: str | None = None) -> dict:
    """An object field ({} when absent or null)."""
    value, what = _field(obj, key, service, what)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise answer_error(service, what, f"is {describe(value)}, not an object")
    return value


def listing(obj: Any, key: str, service: str, *, what: str | None = None) -> list:
    """A list field ([] when absent or null)."""
    value, what = _field(obj, key, service, what)
    if value is None:
        return []
    if not isinstance(value, list):
        raise answer_error(service, what, f"is {describe(value)}, not a list")
    return value


def flag(obj: Any, key: str, service: str, *, what: str | None = None) -> bool:
    """A true/false field (absent: False); a number or text is read as the JSON truthiness of
    what a lenient server may send (1/"true")."""
    value, what = _field(obj, key, service, what)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise answer_error(service, what, f"is {describe(value)}, not true/false")
