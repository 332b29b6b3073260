"""The registry entry format v1 as pydantic models (see docs/registry.md)."""
from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import (
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

from ..constants import CHECKSUM_ALGORITHMS
from ..standardize import catalog as standardizers
from . import vocab
from .kinds import KINDS
from .search import total_bytes
from .vocab import license_restrictions  # noqa: F401  (part of the models' public names)

FORMAT_VERSION = 1
ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
_HEX = re.compile(r"^[0-9a-f]+$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, str_strip_whitespace=True)


class FileSpec(_Model):
    """One file of a source: its path in the raw folder, and what is known of its bytes."""

    name: str = Field(description="path inside the dataset's raw folder, '/'-separated")
    size: int | None = Field(default=None, ge=0, description="bytes")
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    sha512: str | None = None
    url: str | None = Field(default=None, description="for http/ftp sources")
    id: str | None = Field(default=None, description="the provider's file id (Drive, figshare, Girder)")

    @field_validator("name")
    @classmethod
    def _relative_path(cls, value: str) -> str:
        parts = value.replace("\\", "/").split("/")
        if value.startswith("/") or any(p in ("", ".", "..") for p in parts) or ":" in parts[0]:
            raise ValueError(f"must be a relative '/'-separated path without '..' (got {value!r})")
        return value

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_string(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _checksums_are_hex(self) -> "FileSpec":
        for algorithm, length in CHECKSUM_ALGORITHMS.items():
            value = getattr(self, algorithm)
            if value is None:
                continue
            value = value.lower()
            if len(value) != length or not _HEX.match(value):
                raise ValueError(f"{algorithm} must be {length} hexadecimal characters (got {value!r})")
            setattr(self, algorithm, value)
        return self

    @property
    def checksums(self) -> dict[str, str]:
        return {a: getattr(self, a) for a in CHECKSUM_ALGORITHMS if getattr(self, a)}


def _digits(value: Any) -> Any:
    value = str(value) if isinstance(value, int) else value
    if isinstance(value, str) and not value.isdigit():
        raise ValueError(f"must be a string of digits (got {value!r})")
    return value


def _one_or_list(value: Any) -> Any:
    """A list field written as one value (`projects: TCGA-BRCA`) is a list of that one value."""
    return [value] if isinstance(value, str) else value


# The value types of kinds' own fields (kinds.FIELD_TYPES); every kind field is optional in itself.
_FIELD_TYPES: dict[str, Any] = {
    "str": str | None,
    "int": int | None,
    "int|str": int | str | None,
    "digits": Annotated[str | None, BeforeValidator(_digits)],
    "list[str]": Annotated[list[str] | None, BeforeValidator(_one_or_list)],
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
        if row.file_urls:
            missing = [f.name for f in self.files or [] if not f.url]
            if not self.files or missing:
                raise ValueError(f"every file of a {self.kind} source needs a url"
                                 + (f" (missing for {missing[0]})" if missing else ""))
        names = [f.name for f in self.files or []]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate file name {duplicates[0]!r}")
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
        return value


class Provenance(_Model):
    what: str
    source: str


class SizeInfo(_Model):
    bytes: int | None = Field(default=None, ge=0)
    images: int | None = Field(default=None, ge=0)
    slides: int | None = Field(default=None, ge=0)
    patients: int | None = Field(default=None, ge=0)
    text: str | None = Field(default=None, description="the size as published")


def _vocabulary_list(kind: str):
    def check(value: Any) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise ValueError(f"expected a non-empty list of {kind} terms")
        terms = [vocab.normalize(kind, str(v)) for v in value]
        return list(dict.fromkeys(terms))

    return check


class Entry(_Model):
    """One dataset of the registry."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    catalog_row: str | None = None
    aliases: list[str] = Field(default_factory=list)
    summary: str | None = None
    organs: list[str]
    stains: list[str]
    tasks: list[str]
    modality: str
    year: int | None = Field(default=None, ge=1900, le=2100)
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
    mpp: float | None = Field(default=None, gt=0)
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
