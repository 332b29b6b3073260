"""From a registry entry to the files of one source: which sources to try, their listing (with the
published checksums file, the registry's pins and `include` applied) and the `--files` selection."""
from __future__ import annotations

from collections import Counter

from ..errors import AccessError, DownloadError, HistodataError
from ..registry.globs import is_included, matches
from ..registry.kinds import KINDS
from ..reports import source_label
from . import kind_module
from .base import RemoteFile, apply_pinned, files_from_specs
from .manifests import apply_manifest

LISTED_NAMES = 5        # names shown when a --files pattern matches nothing
FROM_HINT = "When you have the files, adopt them with: histodata fetch {id} --from DIR"


# ----------------------------------------------------------------------------- --files
def unmatched_patterns(names: list[str], patterns: list[str]) -> list[str]:
    return [p for p in patterns if not any(matches(n, p) for n in names)]


def select(names: list[str], patterns: list[str] | None) -> list[str]:
    """The names a list of --files patterns selects (all without patterns); a pattern that
    matches nothing is an error that shows a few of the names there are."""
    if not patterns:
        return list(names)
    missing = unmatched_patterns(names, patterns)
    if missing:
        sample = ", ".join(sorted(names)[:LISTED_NAMES]) + (", ..." if len(names) > LISTED_NAMES else "")
        raise HistodataError(f"--files {' '.join(repr(p) for p in missing)} matched none of the "
                             f"{len(names)} file(s) (e.g. {sample}).",
                             "Patterns match the path under raw/ or the base name; quote them in the shell.")
    return [n for n in names if any(matches(n, p) for p in patterns)]


# ----------------------------------------------------------------------------- which sources
def access_error(entry, why: str) -> AccessError:
    """The error for data that needs a person: what went wrong, the entry's instructions, --from."""
    instructions = (entry.instructions or "").strip()
    message = f"{entry.id} cannot be downloaded automatically: {why}"
    if instructions:
        message += f" What to do: {' '.join(instructions.split())}"
    return AccessError(message, FROM_HINT.format(id=entry.id))


def candidate_sources(entry, source_number: int | None) -> list[tuple[int, object]]:
    """(index, source) pairs to try, in order: only the N-th with --source, else every automatic one."""
    if source_number is not None:
        if not 1 <= source_number <= len(entry.sources):
            raise HistodataError(f"--source {source_number}: {entry.id} has {len(entry.sources)} source(s).",
                                 f"Run `histodata info {entry.id}` to see them.")
        chosen = entry.sources[source_number - 1]
        if not KINDS[chosen.kind].automatic:
            raise access_error(entry, f"source {source_number} is a manual download.")
        return [(source_number - 1, chosen)]
    automatic = [(i, s) for i, s in enumerate(entry.sources) if KINDS[s.kind].automatic]
    if not automatic:
        why = (f"its access is {entry.access!r} and it has no automatic source." if entry.access != "open"
               else "it has no automatic source.")
        raise access_error(entry, why)
    return automatic


# ----------------------------------------------------------------------------- listing
def list_source(entry, index: int, source, session) -> list[RemoteFile]:
    """The source's files (only those matching its `include` globs, when it has some: a record may
    hold other datasets' files too), with the checksums of its published manifest
    (`checksums_file`) and the registry's pins applied; a pinned file the source lacks is an error."""
    remotes = kind_module(source.kind).list_files(source, session, entry)
    for remote in remotes:
        remote.source_kind = remote.source_kind or source.kind
    apply_manifest(remotes, source, session)
    apply_pinned(remotes, source.files)
    names = {r.name for r in remotes}
    lacking = [spec.name for spec in source.files or [] if spec.name not in names]
    if lacking:
        raise DownloadError(f"{source_label(index, source.kind)} no longer has {len(lacking)} file(s) the "
                            f"registry lists (e.g. {lacking[0]!r}).",
                            "The record may have changed; the registry entry needs an update.")
    twice = sorted(name for name, count in Counter(r.name for r in remotes).items() if count > 1)
    if twice:
        raise DownloadError(f"{source_label(index, source.kind)} lists {len(twice)} name(s) more than once "
                            f"(e.g. {twice[0]!r}); the files would overwrite each other.",
                            "Report the entry: its source needs distinct file names.")
    clash = file_and_folder(names)
    if clash:
        raise DownloadError(f"{source_label(index, source.kind)} lists both the file {clash[0]!r} and "
                            f"{clash[1]!r} inside a folder of that name; both cannot be saved under raw/.",
                            "Report the entry: its source needs distinct file and folder names.")
    return included(remotes, source)


def file_and_folder(names: set[str]) -> tuple[str, str] | None:
    """A (file, file inside a folder of the same name) pair among `names` (e.g. `d` and `d/e.bin`),
    or None: such a listing cannot be laid out on disk."""
    for name in sorted(names):
        parts = name.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in names:
                return folder, name
    return None


def pinned_listing(source, sizes_required: bool = True) -> list[RemoteFile] | None:
    """The source's files from the registry alone, when it pins every file it keeps (`include`) with
    its size (a dry run then needs no network; offline, pins without sizes do too); None when only
    the provider can say what there is."""
    specs = [spec for spec in source.files or [] if is_included(spec.name, source.include)]
    if not specs or (sizes_required and any(spec.size is None for spec in specs)):
        return None
    return included(files_from_specs(source, source.kind), source)


def included(remotes: list[RemoteFile], source) -> list[RemoteFile]:
    """Only the files matching the source's `include` globs (all when it has none)."""
    include = getattr(source, "include", None)
    return [r for r in remotes if is_included(r.name, include)]
