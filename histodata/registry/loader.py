"""Read the registry: the built-in YAML files plus the folders of $HISTODATA_REGISTRY.

Parsing and validating ~120 YAML files takes a good part of a second, so validated entries
are kept in a JSON index keyed by a fingerprint of the files' bytes: the wheel ships the
index of the built-in registry, and indexes of other folders are cached on first use.
The fast path reads only JSON and never imports pydantic.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .. import constants, temporaries
from ..errors import RegistryError, UnknownDatasetError
from ..redact import holds_secret
from .kinds import KINDS

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
INDEX_FORMAT = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one registry file."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


def builtin_dir() -> Path:
    """The built-in registry: inside the installed package, else the source checkout's registry/."""
    installed = PACKAGE_DIR / "_data" / "registry"
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / "registry"


def builtin_index_path() -> Path:
    return PACKAGE_DIR / "_data" / "registry_index.json"


def yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise RegistryError(f"registry folder {folder} does not exist or is not a folder.",
                            "Check the path (and $HISTODATA_REGISTRY).")
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def read_files(folder: Path) -> tuple[list[tuple[Path, bytes]], str]:
    """Bytes of every YAML file of `folder` and a fingerprint of all of them."""
    digest = hashlib.sha256(schema_fingerprint().encode())
    contents = []
    for path in yaml_files(folder):
        data = path.read_bytes()
        contents.append((path, data))
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(data).digest())
    return contents, digest.hexdigest()


def schema_fingerprint() -> str:
    """Changes whenever the code that validates and normalises entries changes."""
    digest = hashlib.sha256(f"index-v{INDEX_FORMAT}".encode())
    for module in ("models.py", "kinds.py", "vocab.py"):
        digest.update((Path(__file__).parent / module).read_bytes())
    for module in sorted((PACKAGE_DIR / "standardize").glob("*.py")):   # standardizer names and options
        digest.update(module.read_bytes())
    return digest.hexdigest()


class UnquotedNumber(str):
    """A checksum written as a plain YAML number (`md5: 0123...`): the text as written, and the number
    YAML reads (`yaml_number`, octal for a leading zero). The models refuse it with a hint to quote it."""

    yaml_number: Any = None


def _yaml_loader():
    """The safe loader, marking checksums written as unquoted numbers (see UnquotedNumber)."""
    import yaml  # heavy: imported on first use

    numbers = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")

    def unquoted_number(key, value) -> bool:
        """A checksum's value written as a plain scalar that YAML reads (or YAML 1.2 would read) as a number."""
        return (isinstance(key, yaml.ScalarNode) and key.value in constants.CHECKSUM_ALGORITHMS
                and isinstance(value, yaml.ScalarNode) and not value.style    # plain: None, or "" (C parser)
                and (value.tag in numbers or value.value.isdigit()))

    class RegistryLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        def construct_mapping(self, node, deep=False):
            mapping = super().construct_mapping(node, deep=deep)
            for key, value in node.value:
                if unquoted_number(key, value):
                    marked = UnquotedNumber(value.value)
                    marked.yaml_number = mapping.get(key.value)
                    mapping[key.value] = marked
            return mapping

    return RegistryLoader


def _yaml_load(text: bytes) -> Any:
    import yaml  # heavy: imported on first use

    return yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a safe loader


def _format_location(loc: tuple) -> str:
    """('sources', 0, 'zenodo', 'record') -> 'sources[0].record' (the kind's tag is left out)."""
    out = ""
    for n, part in enumerate(loc):
        if n >= 2 and loc[n - 2] == "sources" and isinstance(loc[n - 1], int) and part in KINDS:
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate_document(path: Path, data: bytes) -> tuple[dict | None, list[Problem]]:
    """Parse and validate one file; return (entry as plain dict, problems)."""
    # heavy: yaml, pydantic and the models load only when a file must be validated
    import yaml
    from pydantic import ValidationError

    from .models import Entry

    name = str(path)
    try:
        document = _yaml_load(data)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(err, "problem", None) or str(err).splitlines()[0]
        return None, [Problem(name, where, f"not valid YAML: {reason}")]
    if not isinstance(document, dict):
        return None, [Problem(name, "", "expected a mapping of fields (id, name, organs, ...)")]
    try:
        entry = Entry.model_validate(document)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            message = e["msg"].removeprefix("Value error, ")
            if e["type"] == "missing":
                message = "required field is missing"
            elif e["type"] == "extra_forbidden" and len(e["loc"]) == 1:
                message = unknown_field(str(e["loc"][0]), Entry)
            elif "input" in e and e["type"] not in ("value_error",) and not isinstance(e["input"], (dict, list)):
                message = f"{message} (got {e['input']!r})"
            problems.append(Problem(name, _format_location(e["loc"]), message))
        return None, problems
    problems = []
    if entry.id != path.stem:
        problems.append(Problem(name, "id", f"must equal the file name {path.stem!r} (got {entry.id!r})"))
    return entry_to_dict(entry), problems


def unknown_field(name: str, model) -> str:
    """'not a field of an entry; did you mean `sources`?' for a misspelt key."""
    known = [field.alias or key for key, field in model.model_fields.items()]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return "not a field of an entry" + (f"; did you mean `{close[0]}`?" if close else
                                        f" ({constants.docs_page('registry')} lists the fields)")


def entry_to_dict(entry) -> dict:
    return entry.model_dump(mode="json", by_alias=True, exclude_none=True)


def validate_folder(folder: Path) -> tuple[list[dict], list[Problem]]:
    """Validate every file of a folder; duplicate ids are problems."""
    contents, _ = read_files(folder)
    return _validate_contents(contents)


def _validate_contents(contents: Iterable[tuple[Path, bytes]]) -> tuple[list[dict], list[Problem]]:
    entries: list[dict] = []
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for path, data in contents:
        entry, found = validate_document(path, data)
        problems += found
        if entry is None:
            continue
        if entry["id"] in seen:
            problems.append(Problem(str(path), "id", f"duplicate id {entry['id']!r} (also in {seen[entry['id']]})"))
            continue
        seen[entry["id"]] = path
        if not found:
            entries.append(entry)
    return entries, problems


def _read_index(path: Path, fingerprint: str) -> list[dict] | None:
    try:
        with open(path, "rb") as handle:
            index = json.load(handle)
    except (OSError, ValueError):
        return None
    if index.get("format") != INDEX_FORMAT or index.get("fingerprint") != fingerprint:
        return None
    return index["entries"]


def write_index(path: Path, fingerprint: str, entries: list[dict]) -> None:
    """Write an index atomically (a concurrent reader sees the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporaries.reclaim(path.parent)
    tmp = temporaries.beside(path)
    tmp.write_text(json.dumps({"format": INDEX_FORMAT, "fingerprint": fingerprint, "entries": entries},
                              separators=(",", ":")))
    os.replace(tmp, path)


def load_folder(folder: Path, index_path: Path | None = None) -> list[dict]:
    """Entries of one folder, through an index when one matches; raise on any problem."""
    contents, fingerprint = read_files(folder)
    candidates = [p for p in (index_path, _cache_path(fingerprint)) if p is not None]
    for candidate in candidates:
        entries = _read_index(candidate, fingerprint)
        if entries is not None:
            return entries
    entries, problems = _validate_contents(contents)
    if problems:
        shown = "\n  ".join(str(p) for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise RegistryError(f"invalid registry folder {folder}:\n  {shown}{more}\n",
                            "Fix these files (run `histodata registry validate DIR` to re-check).")
    if holds_secret(json.dumps(entries)):   # a password in an entry's URL is not copied into the cache
        log.debug("not caching the index of %s: an entry holds a credential", folder)
        return entries
    try:
        write_index(_cache_path(fingerprint), fingerprint, entries)
    except OSError as err:  # a read-only cache is not fatal
        log.debug("could not cache the registry index: %s", err)
    return entries


def _cache_path(fingerprint: str) -> Path:
    return constants.cache_dir() / f"registry-index-{fingerprint[:24]}.json"


class Registry:
    """All entries, as plain dicts in id order; `entry(id)` gives the validated model."""

    def __init__(self, entries: Iterable[dict], origins: dict[str, str] | None = None,
                 replaced: Iterable[str] = ()):
        self._entries = {e["id"]: e for e in entries}
        self._origins = dict(origins or {})
        self._replaced = set(replaced)

    def origin(self, dataset_id: str) -> str | None:
        """The $HISTODATA_REGISTRY folder an entry comes from (None for a built-in entry)."""
        return self._origins.get(dataset_id)

    def replaces_builtin(self, dataset_id: str) -> bool:
        """True when a local entry stands in for the built-in entry of the same id."""
        return dataset_id in self._replaced

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, dataset_id: str) -> bool:
        return dataset_id in self._entries

    def ids(self) -> list[str]:
        return sorted(self._entries)

    def dicts(self) -> list[dict]:
        return [self._entries[i] for i in self.ids()]

    def get_dict(self, dataset_id: str) -> dict:
        """The entry `dataset_id` names (an id in any case, or a unique alias or name)."""
        return self._entries[self.resolve(dataset_id)]

    def resolve(self, text: str) -> str:
        """The id that `text` names: the id itself, the id in another case, or a unique alias or
        name (`CAMELYON16`, `PCam`); UnknownDatasetError otherwise."""
        if text in self._entries:
            return text
        folded = text.casefold()
        same = [i for i in self._entries if i.casefold() == folded]
        if same:
            return same[0]
        named = sorted({e["id"] for e in self._entries.values()
                        for name in [e.get("name") or "", *(e.get("aliases") or [])] if name.casefold() == folded})
        if len(named) == 1:
            return named[0]
        if named:
            raise UnknownDatasetError(f"{text!r} is a name of several datasets: {', '.join(named)}.",
                                      "Use one of these ids.")
        raise unknown_id(text, self.ids())

    def entry(self, dataset_id: str):
        from .models import Entry  # heavy: the pydantic models, imported on first use

        return Entry.model_validate(self.get_dict(dataset_id))


def canonical_id(text: str) -> str:
    """The registry id `text` names, or `text` itself when it names none (a local-only dataset)."""
    try:
        return load_registry().resolve(text)
    except (UnknownDatasetError, RegistryError):
        return text


def unknown_id(dataset_id: str, known: list[str]) -> UnknownDatasetError:
    close = difflib.get_close_matches(dataset_id.lower(), known, n=3, cutoff=0.5)
    close += [k for k in known if dataset_id.lower() in k and k not in close][: 3 - len(close)]
    hint = f"Did you mean: {', '.join(close)}?" if close else "Run `histodata search` to list the catalog."
    return UnknownDatasetError(f"No dataset with id {dataset_id!r}.", hint)


_cached: tuple[tuple, Registry] | None = None


def load_registry() -> Registry:
    """The built-in entries, replaced or extended by those of $HISTODATA_REGISTRY's folders."""
    global _cached
    extra = constants.extra_registry_dirs()
    key = tuple(str(p) for p in extra)
    if _cached and _cached[0] == key:
        return _cached[1]
    entries = {e["id"]: e for e in load_folder(builtin_dir(), builtin_index_path())}
    builtin = set(entries)
    extra_seen: dict[str, Path] = {}
    for folder in extra:
        for entry in load_folder(folder):
            if entry["id"] in extra_seen:
                raise RegistryError(f"duplicate id {entry['id']!r} in {folder} and {extra_seen[entry['id']]}.",
                                    "Each id may appear once among the $HISTODATA_REGISTRY folders.")
            extra_seen[entry["id"]] = folder
            entries[entry["id"]] = entry
    registry = Registry(entries.values(), {i: str(folder) for i, folder in extra_seen.items()},
                        builtin & set(extra_seen))
    _cached = (key, registry)
    return registry


def clear_cache() -> None:
    global _cached
    _cached = None
