"""Catalog search over plain entry dicts (no pydantic, no pandas: this is the CLI's fast path)."""
from __future__ import annotations

import re

from ..errors import HistodataError
from . import vocab
from .globs import is_included
from .kinds import KINDS

FILTERS = ("organ", "stain", "task", "modality", "access")
_FILTER_FIELD = {"organ": "organs", "stain": "stains", "task": "tasks", "modality": "modality",
                 "access": "access"}
# Where a word may match, and how much a match there weighs in the ranking.
_WEIGHTS = (("id", 8), ("name", 8), ("aliases", 5), ("catalog_row", 4), ("organs", 3), ("stains", 3),
            ("tasks", 3), ("modality", 2), ("summary", 1))
_WORD = re.compile(r"[\w&+-]+")


def _normalize_filter(kind: str, value: str) -> str:
    term = vocab.try_normalize(kind, value)
    if term is None:
        allowed = ", ".join(vocab.VOCABULARIES[kind])
        raise HistodataError(f"Unknown {kind} {value!r}.", f"Use one of: {allowed}.")
    return term


def _field_text(entry: dict, field: str) -> str:
    value = entry.get(field) or ""
    if isinstance(value, list):
        value = " ".join(value)
    return str(value).lower()


def _word_variants(word: str) -> set[str]:
    variants = {word}
    for kind in ("organ", "stain", "task", "modality"):
        term = vocab.try_normalize(kind, word)
        if term:
            variants.add(term)
    return variants


def _contains_word_prefix(text: str, word: str) -> bool:
    """True when `word` starts a word of `text` ('breast' in 'breast-cancer', not 'he' in 'the')."""
    start = text.find(word)
    while start != -1:
        if start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "&"):
            return True
        start = text.find(word, start + 1)
    return False


def _score(entry: dict, words: list[str]) -> int:
    total = 0
    for word in words:
        best = 0
        variants = _word_variants(word)
        for field, weight in _WEIGHTS:
            text = _field_text(entry, field)
            if any(_contains_word_prefix(text, v) for v in variants):
                best = max(best, weight)
        if best == 0:
            return 0
        total += best
    return total


def search_entries(entries: list[dict], text: str | None = None, **filters: str | None) -> list[dict]:
    """Entries matching every word of `text` and every filter, best matches first."""
    wanted = {k: _normalize_filter(k, v) for k, v in filters.items() if v}
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise TypeError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    words = [w.lower() for w in _WORD.findall(text or "")]
    results = []
    for entry in entries:
        if not all(_matches(entry, k, v) for k, v in wanted.items()):
            continue
        score = _score(entry, words) if words else 1
        if score:
            results.append((score, entry))
    results.sort(key=lambda pair: (-pair[0], pair[1]["id"]))
    return [entry for _, entry in results]


def _matches(entry: dict, kind: str, term: str) -> bool:
    value = entry.get(_FILTER_FIELD[kind])
    terms = vocab.narrower_terms(kind, term)
    return bool(terms & set(value)) if isinstance(value, list) else value in terms


def total_bytes(entry: dict) -> int | None:
    """The bytes a fetch moves: the files a source keeps (its `include` applied) summed, from the
    first source (automatic ones first, in order) whose every kept file has a size; else the
    published total."""
    sources = entry.get("sources") or []
    ordered = [s for s in sources if _automatic(s)] + [s for s in sources if not _automatic(s)]
    for source in ordered:
        files = source_files(source)
        if files and all(f.get("size") is not None for f in files):
            return sum(f["size"] for f in files)
    return (entry.get("size") or {}).get("bytes") or None


def source_files(source: dict) -> list[dict]:
    """The registry's files of one source that a fetch keeps: those its `include` globs match."""
    include = source.get("include")
    return [f for f in source.get("files") or [] if is_included(f.get("name", ""), include)]


def _automatic(source: dict) -> bool:
    row = KINDS.get(source.get("kind"))
    return row is None or row.automatic
