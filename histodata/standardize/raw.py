"""`raw`: no specific standardizer fits yet; every raw file is listed as one sample."""
from __future__ import annotations

from .base import Context, Result
from .spec import INPUT_OPTIONS, Option, Standardizer


def standardize(ctx: Context) -> Result:
    inputs = ctx.inputs() if ctx.option("extract") else [(p, ctx.raw_name(p)) for p in ctx.raw_files()]
    rows = [{"sample_id": ctx.rel(path).split("/", 1)[1], "image": ctx.rel(path), "source": source,
             "bytes": path.stat().st_size} for path, source in inputs]
    return Result(rows, {}, {"reason": ctx.option("reason")} if ctx.option("reason") else {})


STANDARDIZER = Standardizer(
    name="raw",
    summary="files are listed as they are (no specific standardizer yet)",
    options={
        "reason": Option("why no specific standardizer fits yet (kept in the dataset record, shown in the docs)",
                         kind="a text"),
        "extract": Option("extract archives (and `.gz` files) and list their members instead of the raw files",
                          default=False, kind="true or false"),
        **INPUT_OPTIONS,
    },
    run=standardize,
    partial=True,   # works on a partial fetch: each file is listed on its own
)
