"""Every standardizer, found in one place: name -> its description (`spec.Standardizer`).

    CATALOG["folder-per-class"].summary / .options / .run
    problem("nonsense", {})    -> "unknown standardizer 'nonsense'; use one of: folder-per-class, ..."

The registry models validate `standardize: {with: ..., options: ...}` through `problem`, the
fetch dispatches through `get`, the docs list `CATALOG`. Importing this loads only the
standardizer modules themselves (standard library at import time; numpy, pandas and PIL are
imported when a dataset is standardized), and nothing here imports the registry.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

from ..errors import StandardizeError
from .bcss import STANDARDIZER as BCSS
from .camelyon import STANDARDIZER as CAMELYON
from .consep import STANDARDIZER as CONSEP
from .folder_per_class import STANDARDIZER as FOLDER_PER_CLASS
from .herohe import STANDARDIZER as HEROHE
from .lizard import STANDARDIZER as LIZARD
from .monuseg import STANDARDIZER as MONUSEG
from .pannuke import STANDARDIZER as PANNUKE
from .pcam import STANDARDIZER as PCAM
from .raw import STANDARDIZER as RAW
from .slides import STANDARDIZER as SLIDES
from .spec import Standardizer

# A new standardizer: one module declaring STANDARDIZER, and one row here (the order of the docs).
CATALOG: Mapping[str, Standardizer] = MappingProxyType({s.name: s for s in (
    FOLDER_PER_CLASS, CAMELYON, BCSS, HEROHE, PCAM, PANNUKE, MONUSEG, CONSEP, LIZARD, SLIDES, RAW)})
NAMES: tuple[str, ...] = tuple(CATALOG)


def name_problem(name: Any) -> str | None:
    """What is wrong with `standardize.with`, or None when it names a standardizer."""
    if name in CATALOG:
        return None
    return f"unknown standardizer {name!r}; use one of: {', '.join(NAMES)}"


def options_problem(name: str, options: Mapping[str, Any]) -> str | None:
    """What is wrong with the options given to standardizer `name`, or None when it takes them all."""
    standardizer = CATALOG[name]
    unknown = standardizer.unknown_options(options)
    if not unknown:
        wrong = [f"option {key!r} {problem}" for key, value in options.items()
                 if (problem := standardizer.options[str(key).replace("-", "_")].value_problem(value))]
        return "; ".join(wrong) or None
    return (f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(repr(k) for k in unknown)} for "
            f"standardizer {name!r}; it takes: {', '.join(standardizer.options)}")


def problem(name: Any, options: Mapping[str, Any]) -> str | None:
    """What is wrong with a `standardize` block (name first, then options), or None."""
    return name_problem(name) or options_problem(name, options)


def get(name: Any, options: Mapping[str, Any] | None = None) -> Standardizer:
    """The standardizer `name`, after checking `options`; a StandardizeError says what is wrong."""
    wrong = problem(name, options or {})
    if wrong:
        raise StandardizeError(f"{wrong}.", "Fix the registry entry's `standardize` block "
                                            "(`histodata registry validate` checks it).")
    return CATALOG[name]
