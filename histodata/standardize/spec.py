"""How a standardizer describes itself: its name, a one-line summary, the options it takes and
the function that runs it. Each standardizer module holds one `Standardizer`; `catalog.py` finds
them all.

Light on purpose (standard library only): the registry models import the catalog to validate
`standardize: {with: ..., options: ...}`, so nothing here may pull in numpy, pandas or PIL.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping


# The shapes an option may take, as YAML writes them.
VALUE_KINDS: dict[str, tuple[type, ...]] = {
    "true or false": (bool,), "a text": (str,), "a list": (list, tuple), "a mapping": (dict,),
    "a list|a mapping": (list, tuple, dict),
}


@dataclass(frozen=True)
class Option:
    """One key of an entry's `standardize.options`: what it means and what applies when it is not set.

    `default` is the value the standardizer uses (`ctx.option(name)` returns it); `default_text`
    says in words what happens when the default is computed rather than a value.
    """

    description: str
    default: Any = None
    default_text: str = ""
    kind: str = ""          # the YAML shape it takes (a key of VALUE_KINDS); "" = not checked

    def value_problem(self, value: Any) -> str | None:
        """What is wrong with `value` for this option (its shape), or None."""
        accepted = VALUE_KINDS.get(self.kind)
        if accepted is None or value is None:
            return None
        if isinstance(value, bool) and bool not in accepted or not isinstance(value, accepted):
            return f"must be {self.kind.replace('|', ' or ')} (got {type(value).__name__} {value!r})"
        return None

    def shown_default(self) -> str:
        """The default as the docs show it (YAML-like: `true`, `[325]`, `none`)."""
        if self.default_text:
            return self.default_text
        if self.default is None:
            return "none"
        value = list(self.default) if isinstance(self.default, tuple) else self.default
        return json.dumps(value)


@dataclass(frozen=True)
class Standardizer:
    """One standardizer: `run(ctx) -> Result` turns a dataset's raw files into the local layout."""

    name: str
    summary: str
    options: Mapping[str, Option]
    run: Callable[[Any], Any] = field(repr=False, compare=False)
    # It works on whatever part of the dataset is on disk (a `--where`/`--files` selection of
    # slides), so `fetch` runs it after a partial fetch too; others wait for every file.
    partial: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def unknown_options(self, options: Mapping[str, Any]) -> list[str]:
        """The keys of `options` this standardizer does not take (`read-sizes` = `read_sizes`)."""
        return [key for key in options if str(key).replace("-", "_") not in self.options]


# Options every standardizer that reads its inputs through the context takes (standardize/base.py).
ARCHIVE_LIMITS = Option("the archive bomb guard for this dataset: `{max_bytes: ..., max_ratio: ..., "
                        "max_members: ...}`; a key left out keeps its limit",
                        default_text="the environment's or built-in limits", kind="a mapping")
GUNZIP = Option("decompress single-file `.gz` raw files once into `extracted/` (false: use them as they are)",
                default=True, kind="true or false")
INPUT_OPTIONS = {"archive_limits": ARCHIVE_LIMITS, "gunzip": GUNZIP}
