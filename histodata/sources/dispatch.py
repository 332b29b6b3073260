"""Which download step each file takes: the engine's (one GET, resumable, verified in one pass) for
plain URLs, or its kind's own `download` (Drive's confirm form, Kaggle's RPC, DSA region crops)."""
from __future__ import annotations

from ..errors import BatchError, DownloadError, HistodataError, failure_summary
from ..layout import DatasetPaths, prune_partial
from ..transfer import DownloadResult, DownloadTask, download_many
from ..transfer.partial import has_partial, lock_path
from . import kind_download
from .base import RemoteFile, parallel_map

KIND_DOWNLOAD_WORKERS = 2   # files needing their kind's own step go a couple at a time, politely


def download_remotes(remotes: list[RemoteFile], paths: DatasetPaths, session, workers: int | None = None,
                     quiet: bool | None = None) -> tuple[list[tuple[RemoteFile, DownloadResult]],
                                                         HistodataError | None]:
    """Download `remotes` into raw/: (pairs of remote and result that succeeded, the error or None)."""
    by_path, tasks, by_kind = {}, [], []
    for remote in remotes:
        path = paths.raw_file(remote.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        by_path[str(path.absolute())] = remote
        if remote.downloader:
            by_kind.append((remote, path))
        else:
            tasks.append(DownloadTask(url=remote.url, path=path, checksums=dict(remote.checksums),
                                      size=remote.size, headers=dict(remote.headers), name=remote.name,
                                      work_dir=paths.work_dir(path)))
    done, errors = download_with_kinds(by_kind, paths, session, quiet)
    results = []
    if tasks:
        try:
            results = download_many(tasks, workers=workers or 4, quiet=quiet, session=session)
        except BatchError as err:
            results = err.results
            inner = [e for _, e in err.failures if e is not None]
            errors.append(inner[0] if len(inner) == 1 else err)  # one failure: its own type
        except DownloadError as err:      # refused before any download started (e.g. not enough space)
            errors.append(err)
    done += [(by_path[str(r.path.absolute())], r) for r in results]
    remove_bookkeeping(paths, [remote.name for remote, _ in done])
    return done, combined_error(errors)


def download_with_kinds(pairs: list[tuple[RemoteFile, object]], paths: DatasetPaths, session, quiet):
    """Files whose kind needs its own step: (done pairs, errors)."""
    def one(pair):
        remote, path = pair
        try:
            return kind_download(remote.downloader)(remote, path, session, quiet=quiet,
                                                    work_dir=paths.work_dir(path))
        except HistodataError as err:
            return err

    done, errors = [], []
    outcomes = parallel_map(one, pairs, workers=KIND_DOWNLOAD_WORKERS)
    for (remote, _), outcome in zip(pairs, outcomes, strict=True):
        if isinstance(outcome, HistodataError):
            errors.append(outcome)
        else:
            done.append((remote, outcome))
    return done, errors


def combined_error(errors: list[HistodataError]) -> HistodataError | None:
    """None, the one error, or one batch error holding them all."""
    if len(errors) <= 1:
        return errors[0] if errors else None
    return BatchError(failure_summary([("", e) for e in errors]) + ".",
                      "Run the same command again to retry.",
                      failures=[(None, e) for e in errors])


def remove_bookkeeping(paths: DatasetPaths, names: list[str]) -> None:
    """The locks of finished downloads go, then every empty folder of `.partial/` (the caller holds
    the dataset lock). Only the bookkeeping folder is touched: raw/ holds the dataset's files, and a
    listed file named like a lock is one of them."""
    for name in names:
        target = paths.raw_file(name)
        work = paths.work_dir(target)
        if not has_partial(target, work):
            lock_path(target, work).unlink(missing_ok=True)
    prune_partial(paths)
