"""`kind: idc` — NCI Imaging Data Commons: DICOM series picked from IDC's series index, their objects
listed anonymously from IDC's public bucket and downloaded by the engine.

The series list comes from the index the `idc-index-data` package ships (`idc_index.parquet`, one
row per series; the optional extra `idc`): the rows of the source's `collections` (IDC collection
ids, e.g. `cptac_ov`) with the source's `modality` (default `SM`, slide microscopy: the same
collections also hold CT, MR, segmentations and annotations) and, when given, a SeriesDescription
matching the `series_description` glob (case-insensitive, e.g. `FFPE*`).

Each series' objects are listed with S3 ListObjectsV2 from `<aws_bucket>/<crdc_series_uuid>/`
(virtual-host HTTPS in us-east-1, unsigned: the code of `kind: s3`), keeping the `.dcm` objects as
idc-index does. One slide = one series = one folder of DICOM instances under raw/:
`<collection_id>/<PatientID>/<SeriesInstanceUID>/<crdc_instance_uuid>.dcm`.

Checksums: a listing's ETag that is a plain md5 (single-part upload) is verified; other objects
are checked by the listing's size only, and reported so. The index's `series_size_MB` (decimal MB)
is only an estimate (`estimate`); what is checked is the listing.

A series the index lists but the bucket has no objects for (the index and the bucket disagree,
e.g. a series replaced in a newer IDC release) becomes one placeholder file whose download fails
with a message naming the series; every other series is still fetched and verified.
"""
from __future__ import annotations

import fnmatch
import logging
from pathlib import Path

from ..errors import DownloadError
from . import s3
from .base import RemoteFile, parallel_map, remote_name

log = logging.getLogger(__name__)

REGION = "us-east-1"                    # every IDC bucket
DEFAULT_BUCKET = "idc-open-data"
DEFAULT_MODALITY = "SM"
MISSING = "series-missing-from-bucket"  # the placeholder of a series without objects
COLUMNS = ("collection_id", "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SeriesDescription",
           "Modality", "license_short_name", "aws_bucket", "crdc_series_uuid", "series_size_MB")
EXTRA_HINT = 'Install the IDC index with: pip install "histodata-pathology[idc]"'
LISTING_WORKERS = 8


# ----------------------------------------------------------------------------- the index
def index_path() -> Path:
    """Where the installed idc-index-data package keeps its series index."""
    try:
        import idc_index_data  # optional: the `idc` extra (IDC's series index, a ~75 MB parquet)
    except ImportError:
        raise DownloadError("an idc source needs IDC's series index, the idc-index-data package, which is "
                            "not installed.", EXTRA_HINT) from None
    path = getattr(idc_index_data, "IDC_INDEX_PARQUET_FILEPATH", None)
    path = Path(path) if path else Path(idc_index_data.__file__).parent / "idc_index.parquet"
    if not path.is_file():
        raise DownloadError(f"the idc-index-data package has no series index at {path}.",
                            'Reinstall it: pip install --force-reinstall "histodata-pathology[idc]"')
    return path


def index_version() -> str:
    import idc_index_data  # optional: the `idc` extra (present: index_path() found it)

    return str(getattr(idc_index_data, "__version__", "unknown"))


def series_rows(source) -> list[dict]:
    """The index rows the source selects, sorted by collection, patient and series."""
    import pyarrow.parquet as pq  # heavy: only idc sources read parquet

    path = index_path()
    collections = sorted({c.strip().lower() for c in source.collections or []})
    modality = (source.modality or DEFAULT_MODALITY).strip().upper()
    lacking = sorted(set(COLUMNS) - set(pq.read_schema(path).names))
    if lacking:
        raise DownloadError(f"the IDC index at {path} lacks the column(s) {', '.join(lacking)}.",
                            'Upgrade it: pip install -U "histodata-pathology[idc]"')
    table = pq.read_table(path, columns=list(COLUMNS),
                          filters=[("collection_id", "in", collections), ("Modality", "=", modality)])
    rows = [row for row in table.to_pylist() if described(row, source.series_description)]
    if not rows:
        pattern = f" with a SeriesDescription matching {source.series_description!r}" \
            if source.series_description else ""
        raise DownloadError(f"the IDC index (idc-index-data {index_version()}) has no {modality} series in "
                            f"collection(s) {', '.join(collections)}{pattern}.",
                            "Check the collection ids (lower case, e.g. cptac_ov) and the modality, or "
                            'upgrade the index: pip install -U "histodata-pathology[idc]"')
    empty = sorted(set(collections) - {row["collection_id"] for row in rows})
    if empty:
        log.warning("The IDC index has no %s series in collection(s) %s.", modality, ", ".join(empty))
    return sorted(rows, key=lambda r: (r["collection_id"], r["PatientID"] or "", r["SeriesInstanceUID"]))


def described(row: dict, pattern: str | None) -> bool:
    """Whether the row's SeriesDescription matches the glob (case-insensitive; no pattern: all)."""
    if not pattern:
        return True
    return fnmatch.fnmatchcase((row.get("SeriesDescription") or "").lower(), pattern.lower())


def series_folder(row: dict) -> str:
    """`<collection_id>/<PatientID>/<SeriesInstanceUID>`: one folder per series (one slide)."""
    return remote_name(row["collection_id"], row["PatientID"] or "unknown-patient", row["SeriesInstanceUID"])


def metadata(row: dict) -> dict[str, str]:
    """The per-file fields of the kind's row in histodata.registry.kinds (`file_fields`)."""
    values = {"collection": row["collection_id"], "patient": row["PatientID"],
              "study": row["StudyInstanceUID"], "series": row["SeriesInstanceUID"],
              "series_description": row["SeriesDescription"], "modality": row["Modality"],
              "license": row["license_short_name"]}
    return {name: str(value) for name, value in values.items() if value not in (None, "")}


def series_bucket(row: dict) -> tuple[str, str]:
    """(the bucket's base URL, the bucket) of a series."""
    bucket = row.get("aws_bucket") or DEFAULT_BUCKET
    return s3.bucket_base(bucket, REGION), bucket


# ----------------------------------------------------------------------------- the provider
def list_files(source, session, entry) -> list[RemoteFile]:
    rows = series_rows(source)
    listed = parallel_map(lambda row: series_files(session, row), rows, workers=LISTING_WORKERS)
    missing = [files[0] for files in listed if files[0].downloader]
    if missing:
        log.warning("%d of %d IDC series have no objects in the bucket (e.g. series %s); they will be "
                    "reported as failed, the others are fetched.", len(missing), len(rows),
                    missing[0].metadata.get("series"))
    return [remote for files in listed for remote in files]


def series_files(session, row: dict) -> list[RemoteFile]:
    """The `.dcm` objects of one series as files of its folder (or its placeholder when it has none)."""
    base, bucket = series_bucket(row)
    prefix = f"{row['crdc_series_uuid']}/"
    folder, fields = series_folder(row), metadata(row)
    files = [f for f in s3.prefix_files(session, base, bucket, prefix, prefix) if f.name.endswith(".dcm")]
    if not files:
        return [RemoteFile(name=f"{folder}/{MISSING}", url=f"{base}/{prefix}", source_kind="idc",
                           downloader="idc", metadata=fields)]
    for remote in files:
        remote.name, remote.source_kind, remote.metadata = f"{folder}/{remote.name}", "idc", dict(fields)
    return files


def download(remote: RemoteFile, path, session=None, *, quiet=None, **kwargs):
    """Only placeholders of series without objects come here: say which series, and what to do."""
    fields = remote.metadata
    raise DownloadError(f"IDC series {fields.get('series')} (collection {fields.get('collection')}, patient "
                        f"{fields.get('patient')}) has no objects at {remote.url}: the IDC index and the "
                        "bucket disagree.",
                        "The series may have been replaced in a newer IDC release: upgrade the index "
                        '(pip install -U "histodata-pathology[idc]") and run the same command again; the other '
                        "series are kept.")


def estimate(source, session=None, entry=None) -> list[RemoteFile]:
    """Without listing the bucket: one entry per series (its folder as the name), sized by the index's
    `series_size_MB` (decimal MB), for a quick answer to "how big is it" (a dry run of thousands of
    series); the real listing is what downloads are checked against."""
    estimates = []
    for row in series_rows(source):
        base, _ = series_bucket(row)
        size = row.get("series_size_MB")
        estimates.append(RemoteFile(name=series_folder(row), url=f"{base}/{row['crdc_series_uuid']}/",
                                    size=round(size * 1_000_000) if size is not None else None,
                                    source_kind="idc", metadata=metadata(row)))
    return estimates
