"""The registry entry format v1 as pydantic models (see docs/registry.md)."""
from __future__ import annotations

import dataclasses
import math
import re
from typing import Annotated, Any, Literal, Union
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    create_model,
    field_validator,
    model_validator,
)

from ..archives.members import Limits
from ..constants import CHECKSUM_ALGORITHMS
from ..standardize import catalog as standardizers
from . import vocab
from .kinds import KINDS
from .search import total_bytes
from .values import (Count, Globs, Number, Positive, RelativePath, RelativePaths, Text, Whole, checksum,
                     nested_dict, not_a_bool)
from .vocab import license_restrictions  # noqa: F401  (part of the models' public names)

FORMAT_VERSION = 1
ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, str_strip_whitespace=True)


class FileSpec(_Model):
    """One file of a source: its path in the raw folder, and what is known of its bytes."""

    name: RelativePath = Field(description="path inside the dataset's raw folder, '/'-separated")
    size: Count | None = Field(default=None, description="bytes")
    md5: Annotated[str | None, checksum("md5")] = None
    sha1: Annotated[str | None, checksum("sha1")] = None
    sha256: Annotated[str | None, checksum("sha256")] = None
    sha512: Annotated[str | None, checksum("sha512")] = None
    url: Text | None = Field(default=None, description="for http/ftp sources")
    id: Text | None = Field(default=None, description="the provider's file id (Drive, figshare, Girder)")
    resource_key: Text | None = Field(default=None, description="a Drive file's resource key")

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_string(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"must be the provider's id as a string (got {str(value).lower()})")
        return str(value) if isinstance(value, int) else value

    _absolute_url = field_validator("url")(lambda value: absolute_url(value))

    @property
    def checksums(self) -> dict[str, str]:
        return {a: getattr(self, a) for a in CHECKSUM_ALGORITHMS if getattr(self, a)}


def _digits(value: Any) -> Any:
    value = str(value) if isinstance(not_a_bool(value), int) else value
    if isinstance(value, str) and not re.fullmatch(r"[0-9]+", value.strip()):
        raise ValueError(f"must be a string of digits (got {value!r})")
    return value


class Roi(_Model):
    """One region crop of a DSA source: its bounds in base pixels, and its name (the file's stem)."""

    name: RelativePath
    xmin: Number
    ymin: Number
    xmax: Number
    ymax: Number
    item: Text | None = Field(default=None, description="the slide's item id")
    slide: Text | None = Field(default=None, description="the start of the slide item's name")

    @model_validator(mode="after")
    def _bounds(self) -> Roi:
        if self.xmax <= self.xmin or self.ymax <= self.ymin:
            raise ValueError(f"region {self.name!r} needs xmin < xmax and ymin < ymax")
        return self


class Regions(_Model):
    """A DSA source's `regions`: crops of its slides (histodata/sources/dsa.py)."""

    mpp: Positive | None = None
    magnification: Positive | None = None
    dir: RelativePath | None = None
    encoding: Text | None = None
    rois: list[Roi] = Field(min_length=1)


class Annotations(_Model):
    """A DSA source's `annotations` (or `true`): every annotation document of its slides."""

    dir: RelativePath | None = None
    items: list[Annotated[int | Text, BeforeValidator(not_a_bool)]] | None = None


# The value types of kinds' own fields (kinds.FIELD_TYPES); every kind field is optional in itself.
_FIELD_TYPES: dict[str, Any] = {
    "str": Text | None,
    "url": Annotated[Text | None, AfterValidator(lambda value: absolute_url(value))],
    "int": Whole | None,
    "int|str": Annotated[int | Text | None, BeforeValidator(not_a_bool)],
    "digits": Annotated[str | None, BeforeValidator(_digits)],
    "list[str]": Annotated[list[Text] | None, BeforeValidator(lambda v: [v] if isinstance(v, str) else v)],
    "bool": Annotated[bool | None, Field(strict=True)],
    "dsa-regions": Annotated[dict | None, nested_dict(Regions)],
    "dsa-annotations": Annotated[dict | bool | None, nested_dict(Annotations, allow_true=True)],
}


class Source(_Model):
    """One complete way to get the files (a mirror). Kind-specific fields locate the data.

    Each kind has its own model (`SOURCE_MODELS[kind]`, a subclass built from its row in
    `histodata.registry.kinds`), so a source validates its kind's fields; `Source(kind=..., ...)`
    and `Source.model_validate(...)` give the model of the source's kind.
    """

    kind: Literal[tuple(KINDS)]  # type: ignore[valid-type]
    files: list[FileSpec] | None = None
    notes: str | None = None
    include: Globs | None = Field(default=None, description="glob patterns: only the files matching one "
                                  "are this dataset's (one pattern or a list)")
    checksums_file: RelativePaths | None = Field(
        default=None, description="one of the source's files that is a published checksum manifest, or a "
        "list of them (each then verifies the files in its own folder)")

    def __new__(cls, *args: Any, **data: Any):
        if cls is Source and isinstance(data.get("kind"), str):
            cls = SOURCE_MODELS.get(data["kind"], cls)
        return super().__new__(cls)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> "Source":  # type: ignore[override]
        if cls is Source:
            return SOURCE_ADAPTER.validate_python(obj, **kwargs)
        return super().model_validate(obj, **kwargs)

    @model_validator(mode="after")
    def _has_locating_fields(self) -> "Source":
        row = KINDS[self.kind]
        for options in row.required:
            if not any(getattr(self, name, None) for name in options):
                raise ValueError(f"a {self.kind} source needs {' or '.join(options)}")
        if row.file_urls and not (row.listing and getattr(self, row.listing, None)):
            missing = [f.name for f in self.files or [] if not f.url]
            if not self.files or missing:
                raise ValueError(f"every file of a {self.kind} source needs a url"
                                 + (f" (missing for {missing[0]})" if missing else ""))
        names = [f.name for f in self.files or []]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate file name {duplicates[0]!r}")
        folders = {"/".join(n.split("/")[:i]) for n in names for i in range(1, n.count("/") + 1)}
        clash = sorted(folders & set(names))
        if clash:
            raise ValueError(f"file {clash[0]!r} is also the folder of another file "
                             f"({next(n for n in names if n.startswith(clash[0] + '/'))!r}); rename one")
        return self


def _source_model(row) -> type[Source]:
    """The model of one kind: `kind` fixed to its name, its own fields typed and described."""
    fields: dict[str, Any] = {"kind": (Literal[row.name], ...)}
    for spec in row.fields:
        fields[spec.name] = (_FIELD_TYPES[spec.type], Field(default=None, description=spec.description))
    name = "".join(part.capitalize() for part in re.split(r"[-_]", row.name)) + "Source"
    model = create_model(name, __base__=Source, __module__=__name__, __doc__=f"A source of kind {row.name}: "
                         f"{row.summary}.", **fields)
    globals()[name] = model   # importable by name (pickling, docs)
    return model


SOURCE_MODELS: dict[str, type[Source]] = {name: _source_model(row) for name, row in KINDS.items()}


def _kind_of(value: Any) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if isinstance(kind, str) and kind in SOURCE_MODELS else None


# A source as an Entry holds it: the model of its kind, chosen by `kind`.
AnySource = Annotated[
    Union[tuple(Annotated[model, Tag(kind)] for kind, model in SOURCE_MODELS.items())],  # type: ignore
    Discriminator(_kind_of, custom_error_type="source_kind",
                  custom_error_message=f"`kind` must be one of {', '.join(KINDS)}"),
]
SOURCE_ADAPTER: TypeAdapter = TypeAdapter(AnySource)


class Standardize(_Model):
    """Which standardizer turns the raw files into the local layout, and its options: both are
    checked against the standardizers' own descriptions (histodata/standardize/catalog.py)."""

    model_config = ConfigDict(extra="forbid")   # only `with` and `options`: a misspelt key is an error

    with_: str = Field(alias="with", description="standardizer name",
                       json_schema_extra={"enum": list(standardizers.NAMES)})
    options: dict[str, Any] = Field(default_factory=dict, description="the standardizer's options")

    @field_validator("with_")
    @classmethod
    def _known_standardizer(cls, value: str) -> str:
        problem = standardizers.name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("options")
    @classmethod
    def _known_options(cls, value: dict[str, Any], info) -> dict[str, Any]:
        name = info.data.get("with_")
        problem = standardizers.options_problem(name, value) if name is not None else None
        if problem:
            raise ValueError(problem)
        for key, option in value.items():
            check = _OPTION_CHECKS.get(str(key).replace("-", "_"))
            if check is not None:
                check(key, option)
        return value


def _archive_limits(key: str, value: Any) -> None:
    """`archive_limits`: a mapping of the bomb guard's own keys (archives.Limits) to positive numbers."""
    if not isinstance(value, dict):
        raise ValueError(f"option {key!r} must be a mapping such as {{max_bytes: 500000000000}} (got {value!r})")
    known = {f.name: f.type for f in dataclasses.fields(Limits)}
    for name, number in value.items():
        if name not in known:
            raise ValueError(f"option {key!r} has no key {name!r}; it takes: {', '.join(known)}")
        whole = known[name] in ("int", int)
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number) \
                or number <= 0 or (whole and number != int(number)):
            raise ValueError(f"option {key!r}: {name} must be a positive {'whole ' if whole else ''}number "
                             f"(got {number!r})")


def _boolean(key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"option {key!r} must be true or false (got {value!r})")


# The types of the options every input-reading standardizer takes (standardize/spec.py INPUT_OPTIONS).
_OPTION_CHECKS = {"archive_limits": _archive_limits, "gunzip": _boolean}


class Provenance(_Model):
    what: str
    source: str


class SizeInfo(_Model):
    bytes: Count | None = None
    images: Count | None = None
    slides: Count | None = None
    patients: Count | None = None
    text: str | None = Field(default=None, description="the size as published")


def _vocabulary_list(kind: str):
    def check(value: Any) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise ValueError(f"expected a non-empty list of {kind} terms")
        unknown = [str(v) for v in value if vocab.try_normalize(kind, str(v)) is None]
        if unknown:     # every bad item at once, not only the first
            allowed = ", ".join(vocab.VOCABULARIES[kind])
            raise ValueError(f"unknown {kind}{' terms' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                             "expected one of: "
                             f"{allowed} (or a documented synonym)")
        return list(dict.fromkeys(vocab.normalize(kind, str(v)) for v in value))

    return check


def absolute_url(value: str | None) -> str | None:
    """`value` when it is an absolute URL with a host (https://host/path), else a ValueError."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        valid = bool(parts.scheme and parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError as err:           # a bad IPv6 literal, a port out of range, ...
        raise ValueError(f"is not a valid URL ({err}): {value!r}") from None
    if not valid:
        raise ValueError(f"must be an absolute URL such as https://host/path (got {value!r})")
    return value


class Entry(_Model):
    """One dataset of the registry."""

    # A misspelt top-level key (`sorces:`, `licence:`) would silently drop what it holds: refused.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    catalog_row: str | None = None
    aliases: list[str] = Field(default_factory=list)
    summary: str | None = None
    organs: list[str]
    stains: list[str]
    tasks: list[str]
    modality: str
    year: Annotated[int | None, BeforeValidator(not_a_bool)] = Field(default=None, ge=1900, le=2100)
    license: str = "unknown"
    license_url: str | None = None
    access: str
    homepage: str | None = None
    paper: str | None = None
    doi: str | None = None
    paper_doi: str | None = None
    citation: str | None = None
    instructions: str | None = None
    size: SizeInfo | None = None
    magnification: str | None = None
    mpp: Positive | None = None
    scanner: str | None = None
    image_size: str | None = None
    content: str | None = None
    classes: list[str] | dict[str, Any] | None = None
    species: str | None = None
    related: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    sources: list[AnySource] = Field(default_factory=list)
    standardize: Standardize | None = None
    provenance: list[Provenance] = Field(default_factory=list)

    _organs = field_validator("organs", mode="before")(_vocabulary_list("organ"))
    _stains = field_validator("stains", mode="before")(_vocabulary_list("stain"))
    _tasks = field_validator("tasks", mode="before")(_vocabulary_list("task"))

    _urls = field_validator("homepage", "paper", "license_url")(lambda value: absolute_url(value))

    @field_validator("modality", "access", mode="before")
    @classmethod
    def _single_term(cls, value: Any, info) -> str:
        return vocab.normalize(info.field_name, str(value))

    @field_validator("year", mode="before")
    @classmethod
    def _year_int(cls, value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.isdigit() else value

    @field_validator("doi", "paper_doi")
    @classmethod
    def _bare_doi(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", value, flags=re.I)
        if not value.startswith("10."):
            raise ValueError(f"a DOI starts with '10.' (got {value!r})")
        return value

    @field_validator("notes", "aliases", "related", mode="before")
    @classmethod
    def _string_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _gated_entries_explain(self) -> "Entry":
        if self.access != "open" and not self.instructions:
            raise ValueError(f"an entry with access {self.access!r} needs `instructions` "
                             "telling a person what to do by hand")
        return self

    # ----- derived facts, used by the surfaces -----
    @property
    def total_bytes(self) -> int | None:
        """Published total size, else the sum of the first source whose every file has a size."""
        return total_bytes(self.model_dump(exclude_none=True))
