"""The value types of registry fields, each refusing what would misbehave later (see docs/registry.md).

    Text           one line of text: no control character (NUL, newline, tab, ...), no lone surrogate
    RelativePath   a path inside the dataset's raw folder: Text, '/'-separated, relative, no '..'
    RelativePaths  one RelativePath or a non-empty list of them, kept as written
    Glob / Globs   include patterns: non-empty Text (Globs: one pattern or a list, kept as a list)
    Count          a whole number >= 0 (bytes, images, ...): `true` is not a number
    Positive       a number > 0 (mpp, magnification, limits): `true` is not a number
    checksum(alg)  lower-case hexadecimal of the algorithm's length; an unquoted YAML number is
                   refused with a hint to quote it

Validators raise ValueError (pydantic reports it as a problem of the field; a TypeError would escape).
The registry models (models.py) build their fields from these; `nested_dict` validates a nested
mapping (a DSA `regions` block, `archive_limits`) with a model and keeps it a plain dict, as the
code that reads it expects.
"""
from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import (AfterValidator, BaseModel, BeforeValidator, Field, TypeAdapter, ValidationError,
                      WithJsonSchema)

from ..constants import CHECKSUM_ALGORITHMS

# C0 and C1 control characters, DEL, the Unicode line/paragraph separators and lone surrogates
# (a file name cannot be written with them; a URL or id with them is never what was meant).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
HEX = re.compile(r"^[0-9a-f]+$")
MAX_NAME_BYTES = 255           # one path component, as most file systems allow


def text(value: str) -> str:
    bad = CONTROL.search(value)
    if bad:
        raise ValueError(f"contains the control character {bad.group()!r} (got {value!r}); remove it")
    return value


def relative_path(value: str) -> str:
    text(value)
    parts = value.replace("\\", "/").split("/")
    if value.startswith("/") or any(p in ("", ".", "..") for p in parts) or ":" in parts[0]:
        raise ValueError(f"must be a relative '/'-separated path without '..' (got {value!r})")
    long = next((p for p in parts if len(p.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES), None)
    if long:
        raise ValueError(f"has a part longer than {MAX_NAME_BYTES} bytes, which no file system stores "
                         f"(got {long[:40]!r}...)")
    return value


def glob(value: str) -> str:
    text(value)
    if not value:
        raise ValueError("an empty pattern matches nothing; remove it")
    return value


def one_or_list(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise ValueError(f"must be a glob pattern or a list of them, e.g. ['*.zip'] (got {value!r})")
    if not value:
        raise ValueError("an empty list keeps nothing; leave the field out to keep every file")
    return value


def relative_paths(value: Any) -> Any:
    """One relative path, or a non-empty list of them, kept in the shape it was written."""
    if isinstance(value, str):
        return relative_path(value)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a relative path or a non-empty list of them (got {value!r})")
    return [relative_path(v) for v in value]


def not_a_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


def number(value: Any) -> Any:
    """An int or a finite float, kept as it is (a pixel coordinate, truncated where it is used)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"must be a number (got {value!r})")
    return value


Text = Annotated[str, AfterValidator(text)]
RelativePath = Annotated[str, AfterValidator(relative_path)]
RelativePaths = Annotated[Any, BeforeValidator(relative_paths), WithJsonSchema(
    {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]})]
Glob = Annotated[str, AfterValidator(glob)]
Globs = Annotated[list[Glob], BeforeValidator(one_or_list)]
Count = Annotated[int, BeforeValidator(not_a_bool), Field(ge=0)]
Positive = Annotated[float, BeforeValidator(not_a_bool), Field(gt=0, allow_inf_nan=False)]
Whole = Annotated[int, BeforeValidator(not_a_bool)]                      # an id or version number
Number = Annotated[Any, BeforeValidator(number), WithJsonSchema({"type": "number"})]   # a pixel coordinate


def checksum(algorithm: str):
    """A validator of checksum field `algorithm`: a string of its length in hexadecimal, lower-cased."""
    length = CHECKSUM_ALGORITHMS[algorithm]

    def check(value: Any) -> Any:
        if value is None:
            return None
        if hasattr(value, "yaml_number"):       # the loader's mark of a checksum written as a plain number
            read = value.yaml_number
            reads = (f"YAML reads it as the number {read}" if isinstance(read, (int, float))
                     else "YAML readers may take it for a number")
            raise ValueError(f"{value} is written without quotes, so {reads}; "
                             f"write it in quotes: {algorithm}: \"{value}\"")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(f"must be a quoted string of {length} hexadecimal characters (got the number "
                             f"{value}); write it in quotes")
        if not isinstance(value, str):
            return value                                 # pydantic's own "should be a valid string"
        lowered = value.strip().lower()
        if len(lowered) != length or not HEX.match(lowered):
            raise ValueError(f"{algorithm} must be {length} hexadecimal characters (got {value!r}, "
                             f"{len(lowered)} characters)")
        return lowered

    return BeforeValidator(check)


def problems_of(err: ValidationError) -> str:
    """A nested model's errors as one line: `rois[0].xmin: Input should be a valid number (got 'a')`."""
    out = []
    for e in err.errors():
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"]).lstrip(".")
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] != "value_error" and not isinstance(e.get("input"), (dict, list)):
            message += f" (got {e.get('input')!r})"
        out.append(f"{where}: {message}" if where else message)
    return "; ".join(out)


def nested_dict(model: type[BaseModel], allow_true: bool = False):
    """A field validated by `model` but kept as the plain dict the reading code expects (None stays
    None; with `allow_true`, `true` stays `true`, meaning "with the defaults")."""
    adapter = TypeAdapter(model)

    def check(value: Any) -> Any:
        if value is None or (allow_true and value is True):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"must be a mapping{' or true' if allow_true else ''} (got {value!r})")
        try:
            return adapter.validate_python(value).model_dump(exclude_none=True)
        except ValidationError as err:
            raise ValueError(problems_of(err)) from None

    return BeforeValidator(check)
