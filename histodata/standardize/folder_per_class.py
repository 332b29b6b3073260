"""`folder-per-class`: images in class folders, optionally under root folders that are splits.

Works straight from archives (each extracted once into its own folder under images/, named after
its raw path; archives inside it too) or from folders in raw/ (hard-linked into images/). An image
at images/<root...>/<class>/<file> gets label <class> and split <root> (its deepest folder name
that is not only an archive's name), unless options (declared at the end) map them.
"""
from __future__ import annotations

import functools
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .. import archives
from ..errors import StandardizeError
from .base import Context, Result, is_image, walk_paths
from .media import image_size
from .spec import ARCHIVE_LIMITS, Option, Standardizer


@dataclass
class _Placed:
    """What this run put into images/ (paths relative to it): each archive's own folder with its raw
    file, the folders named after an archive rather than published, and the loose images linked."""

    folders: dict[str, str] = field(default_factory=dict)
    wrappers: set[str] = field(default_factory=set)
    loose: list[str] = field(default_factory=list)

    def source(self, folder: str) -> str | None:
        """The raw archive whose folder holds `folder`, if any."""
        parts = folder.split("/")
        for depth in range(len(parts), 0, -1):
            found = self.folders.get("/".join(parts[:depth]))
            if found:
                return found
        return None


def _bring_into_images(ctx: Context) -> _Placed:
    """Extract each archive (and the archives in it) into its own folder under images/ and link
    loose images there."""
    placed = _Placed()
    for path in ctx.raw_files():
        name = ctx.raw_name(path)
        if archives.is_archive(path):
            folder = ctx.target_name(path)
            done = ctx.extract(path, ctx.paths.images / folder, own_folder=True)
            placed.folders[folder] = name
            if done.tops != (folder.rsplit("/", 1)[-1],):   # not an archive of one folder with its own name
                placed.wrappers.add(folder)
        elif is_image(path) and ctx.place(path, ctx.paths.images / name).is_relative_to(ctx.paths.images):
            placed.loose.append(name)
    return placed


def _found(ctx: Context, placed: _Placed) -> list[str]:
    """The images this run placed (not whatever else images/ holds), relative to images/, sorted."""
    images = ctx.paths.images
    prefix = len(str(images)) + 1
    found = [p[prefix:].replace("\\", "/") for folder in placed.folders for p in walk_paths(images / folder)
             if is_image(p)]
    return sorted(found + placed.loose)


def _split_of(root: PurePosixPath, splits: dict, default, wrappers: set[str]) -> tuple[bool, object]:
    """(keep, split) for images under `root`. A mapped folder path (or path end) or name wins,
    the longest path and then the deepest name first; else the deepest folder name that is not
    only an archive's name (`train/images.zip` -> `train`)."""
    parts = root.parts
    keys = ["/".join(parts[i:]) for i in range(len(parts))] + list(reversed(parts))
    for key in keys:
        if key in splits:
            return splits[key] is not None, splits[key] or None    # "": kept, no split
    if not parts:
        return True, default
    published = [part for i, part in enumerate(parts) if "/".join(parts[:i + 1]) not in wrappers]
    return True, published[-1] if published else archives.archive_stem(parts[-1])


def _label_names(folders: set[str], classes) -> tuple[dict[str, str], list[str]]:
    """folder -> label, and the label order."""
    if isinstance(classes, dict):
        mapping = {f: str(classes.get(f, f)) for f in folders}
        order = list(dict.fromkeys([str(v) for v in classes.values()] + sorted(set(mapping.values()))))
        return mapping, [c for c in order if c in set(mapping.values())]
    if isinstance(classes, list):
        unknown = sorted(folders - {str(c) for c in classes})
        if unknown:
            raise StandardizeError(f"class folder(s) {unknown[:5]} are not in the `classes` option.",
                                   "Add them to the entry's standardize.options.classes.")
        return {f: f for f in folders}, [str(c) for c in classes]
    return {f: f for f in folders}, sorted(folders)


def _class_depth(found: list[str]) -> int:
    """How deep the images in class folders are: the most common depth (at least 2)."""
    depths = Counter(p.count("/") + 1 for p in found if "/" in p)
    return max(depths.items(), key=lambda item: (item[1], -item[0]))[0] if depths else 2


def _under_parent(path: str, parent: str) -> tuple[str, str] | None:
    """(root, class folder) of an image below the folder `parent` (a name or a path end): the class
    is the folder right below the deepest such parent, however deep the image sits under it."""
    parts = path.split("/")
    wanted = parent.strip("/").split("/")
    for end in range(len(parts) - 2, len(wanted) - 1, -1):
        if parts[end - len(wanted):end] == wanted:
            return "/".join(parts[:end]), parts[end]
    return None


def standardize(ctx: Context) -> Result:
    placed = _bring_into_images(ctx)
    splits, default_split = ctx.option("splits") or {}, ctx.option("split")
    rows = {"sample_id": [], "split": [], "image": [], "label": [], "source": []}
    folders: list[str] = []
    found = _found(ctx, placed)
    depth = _class_depth(found)
    skipped = 0
    split_of = functools.lru_cache(maxsize=None)(
        lambda root: _split_of(PurePosixPath(root), splits, default_split, placed.wrappers))
    source_of = functools.lru_cache(maxsize=None)(placed.source)
    parent = ctx.option("class_parent")
    for path in found:
        if parent:
            placed_under = _under_parent(path, parent)
            if placed_under is None:
                skipped += 1   # not below the folder that holds the class folders
                continue
            root, cls = placed_under
            folder = f"{root}/{cls}" if root else cls
        elif path.count("/") + 1 != depth:
            skipped += 1   # not at the depth of the class folders (a stray file, a preview, ...)
            continue
        else:
            folder, _ = path.rsplit("/", 1)
            root, _, cls = folder.rpartition("/")
        keep, split = split_of(root)
        if not keep:
            continue
        rows["sample_id"].append(os.path.splitext(path)[0])
        rows["split"].append(split)
        rows["image"].append("images/" + path)
        folders.append(cls)
        rows["source"].append(source_of(folder) or "raw/" + path)
    if not folders:
        raise StandardizeError(f"no images in class folders were found for {ctx.paths.id}.",
                               "folder-per-class expects <root>/<class>/<image> in the raw files.")
    mapping, labels = _label_names(set(folders), ctx.option("classes"))
    rows["label"] = [mapping[f] for f in folders]
    if ctx.option("read_sizes"):
        base = ctx.paths.base
        sizes = ctx.map(lambda p: image_size(base / p) or (None, None), rows["image"], "reading image sizes")
        rows["width"], rows["height"] = [s[0] for s in sizes], [s[1] for s in sizes]
    return Result(rows, {"labels": labels, "folders": {f: mapping[f] for f in sorted(set(folders))}},
                  {"skipped_images": skipped})


STANDARDIZER = Standardizer(
    name="folder-per-class",
    summary="class folders become `images/` entries with their class as `label` and their root folder as `split`",
    options={
        "splits": Option("`{<root folder name or path>: <split>}`; a value of `null` leaves that root out, "
                         "`\"\"` keeps it without a split (a folder that is not a split, e.g. an organ)",
                         default_text="each root folder's name is its split", kind="a mapping"),
        "split": Option("the split of images whose class folders are at the top (no root folder)", kind="a text"),
        "classes": Option("a list (the label order) or `{folder: label}` to rename",
                          default_text="the sorted folder names", kind="a list|a mapping"),
        "read_sizes": Option("read every image's width and height from its header", default=True,
                             kind="true or false"),
        "root": Option("the published folder that holds the class folders (documents the layout; class "
                       "folders are found by their depth, so it does not change the result)", kind="a text"),
        "class_parent": Option("the folder (a name or a path end) whose sub-folders are the classes, when "
                               "images sit in sub-folders of their class folder at different depths (e.g. "
                               "`BM_cytomorphology_data/ART/0001-1000/ART_00001.jpg` next to "
                               "`BM_cytomorphology_data/ABE/ABE_00001.jpg`); without it, class folders are "
                               "found by the images' most common depth", kind="a text"),
        "archive_limits": ARCHIVE_LIMITS,
    },
    run=standardize,
    partial=True,   # works on a partial fetch: each image is a sample of its own
)
