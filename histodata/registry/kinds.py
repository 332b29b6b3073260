"""The source kinds: one row per kind, read by the registry models, the cards, the docs and fetch.

Pure data (no imports beyond the standard library), so validating or searching the registry never
loads a provider's module. A new kind is one module under `histodata/sources/` plus one row here
(see docs/adding-a-source.md).
"""
from __future__ import annotations

from dataclasses import dataclass

# The value types a kind's own fields may have (histodata.registry.models maps them to validators).
FIELD_TYPES = ("str", "url", "int", "int|str", "digits", "list[str]", "bool", "dsa-regions", "dsa-annotations")


@dataclass(frozen=True)
class SourceField:
    """One field of a kind's sources: its name, its type (one of FIELD_TYPES), what it means."""

    name: str
    description: str
    type: str = "str"


@dataclass(frozen=True)
class Kind:
    """What the rest of histodata needs to know about one source kind."""

    name: str                                   # the registry's `kind` value
    module: str                                 # its module under histodata.sources
    summary: str                                # one line, for the docs
    # Its own fields (all optional in themselves; `required` says which must be there). A source may
    # carry other fields too (they are kept as they are), but these are validated and typed.
    fields: tuple[SourceField, ...] = ()
    # Fields a source of this kind must have: each tuple is a set of alternatives, one is enough.
    required: tuple[tuple[str, ...], ...] = ()
    # The fields that say where the data is, in the order a card or docs page shows them.
    locators: tuple[str, ...] = ()
    # Every file of the source carries its own `url` (the registry's files are the listing) ...
    file_urls: bool = False
    # ... unless the source has this field, which names a place the files are listed from (then
    # its `files` only pin sizes and checksums by name).
    listing: str | None = None
    # Some of its files need the module's own `download(remote, path, session, quiet=...)` step
    # (more than one plain GET); such files name the kind in `RemoteFile.downloader`.
    own_download: bool = False
    # `fetch` uses it without a person (everything but files downloaded by hand).
    automatic: bool = True
    # The per-file metadata its listings carry (`RemoteFile.metadata` keys): what `fetch --where
    # FIELD=VALUE` selects on and the manifest keeps, with what each means (for `info` and the docs).
    file_fields: tuple[SourceField, ...] = ()
    # The file field `fetch --dry-run` groups its counts and bytes by (e.g. `project`).
    group_by: str | None = None


KINDS: dict[str, Kind] = {row.name: row for row in (
    Kind("http", "http", "files with their own HTTP(S) URLs, or every file under a directory index",
         fields=(SourceField("index", "the URL of a folder page a web server generates (nginx autoindex, "
                                      "Apache mod_autoindex): every file linked under it, at any depth", "url"),),
         locators=("index",), file_urls=True, listing="index"),
    Kind("zenodo", "zenodo", "a Zenodo record",
         fields=(SourceField("record", "the record id (a version id or a concept id)", "digits"),
                 SourceField("version", "`latest`: follow the record's latest version", "int|str")),
         required=(("record",),), locators=("record", "version")),
    Kind("figshare", "figshare", "a figshare article or collection",
         fields=(SourceField("article", "the article id", "int"),
                 SourceField("collection", "the collection id", "int"),
                 SourceField("version", "the article's version (default: the latest)", "int|str")),
         required=(("article", "collection"),), locators=("article", "collection", "version")),
    Kind("dataverse", "dataverse", "a dataset on a Dataverse server",
         fields=(SourceField("server", "the Dataverse base URL, e.g. https://dataverse.harvard.edu"),
                 SourceField("doi", "the dataset's persistent id (doi:10..., 10... or https://doi.org/...)"),
                 SourceField("version", "the dataset version: `:latest` (the default), `2.0`, ...", "int|str")),
         required=(("server",), ("doi",)), locators=("version", "server", "doi")),
    Kind("mendeley", "mendeley", "a Mendeley Data dataset",
         fields=(SourceField("dataset", "the dataset id"),
                 SourceField("version", "the dataset's version (default: the latest)", "int|str")),
         required=(("dataset",),), locators=("version", "dataset")),
    Kind("s3", "s3", "a public S3 bucket (or an S3-compatible endpoint)",
         fields=(SourceField("bucket", "the bucket name"),
                 SourceField("region", "the AWS region, e.g. us-west-2"),
                 SourceField("endpoint", "an S3-compatible endpoint URL (path-style), instead of a region"),
                 SourceField("prefix", "only the keys under this prefix")),
         required=(("bucket",), ("region", "endpoint")), locators=("bucket", "region", "endpoint", "prefix")),
    Kind("gdrive", "gdrive", "Google Drive public links (a folder, a file, or files by id)",
         fields=(SourceField("folder", "a shared folder's id"),
                 SourceField("file", "a shared file's id"),
                 SourceField("resource_key", "the resource key of older shared links")),
         required=(("folder", "file", "files"),), locators=("folder", "file", "resource_key"),
         own_download=True),
    Kind("girder", "girder", "a Girder / Digital Slide Archive server (files, region crops, annotations)",
         fields=(SourceField("api_url", "the API root, e.g. https://host/api/v1"),
                 SourceField("folder", "a folder id"),
                 SourceField("item", "an item id"),
                 SourceField("path", "a resource path, e.g. /collection/<name>/<folder>"),
                 SourceField("regions", "DSA region crops: `mpp` or `magnification`, `dir`, `encoding`, "
                             "`rois` (name, xmin, ymin, xmax, ymax, optional item or slide)", "dsa-regions"),
                 SourceField("annotations", "DSA annotation documents: `true`, or `dir` and `items`",
                             "dsa-annotations"),
                 SourceField("slides", "also list the slide files when crops or annotations are asked for",
                             "bool")),
         required=(("api_url",), ("folder", "item", "path")), locators=("folder", "api_url", "item", "path"),
         own_download=True),
    Kind("grand-challenge", "grand_challenge", "a grand-challenge.org archive",
         fields=(SourceField("archive", "the archive's slug (from its URL) or its id"),
                 SourceField("api_url", "the API root (default https://grand-challenge.org/api/v1)")),
         required=(("archive",),), locators=("api_url", "archive")),
    Kind("kaggle", "kaggle", "a Kaggle competition or dataset",
         fields=(SourceField("competition", "the competition's slug"),
                 SourceField("dataset", "a dataset as owner/slug"),
                 SourceField("version", "the dataset's version number (default: the latest)", "int|str")),
         required=(("competition", "dataset"),), locators=("version", "dataset", "competition"),
         own_download=True),
    Kind("ftp", "ftp", "files with their own ftp:// URLs, or every file under an FTP folder",
         fields=(SourceField("folder", "an ftp:// URL of a folder: every file under it, at any depth", "url"),),
         locators=("folder",), file_urls=True, listing="folder"),
    Kind("gdc", "gdc", "files of the NCI Genomic Data Commons (e.g. TCGA slide images)",
         fields=(SourceField("projects", "project ids, e.g. [TCGA-BRCA] (none: every project of `program`)",
                             "list[str]"),
                 SourceField("program", "a program name, e.g. TCGA"),
                 SourceField("data_type", "the GDC data type (default: Slide Image)"),
                 SourceField("experimental_strategy", "only `Diagnostic Slide` (FFPE) or `Tissue Slide` "
                                                      "(frozen) files")),
         required=(("projects", "program"),), locators=("program", "projects", "data_type",
                                                         "experimental_strategy"),
         file_fields=(SourceField("file_id", "the GDC file UUID"),
                      SourceField("case", "the case's submitter id, e.g. TCGA-AN-A0FL"),
                      SourceField("project", "the project id, e.g. TCGA-BRCA"),
                      SourceField("sample_type", "e.g. Primary Tumor, Solid Tissue Normal"),
                      SourceField("experimental_strategy", "Diagnostic Slide (FFPE) or Tissue Slide"),
                      SourceField("primary_site", "the case's primary site, e.g. Breast"),
                      SourceField("disease_type", "the disease type, e.g. Adenomas and Adenocarcinomas")),
         group_by="project"),
    Kind("idc", "idc", "NCI Imaging Data Commons DICOM series (slides), from IDC's index and public bucket",
         fields=(SourceField("collections", "IDC collection ids, e.g. [cptac_ov] (lower case)", "list[str]"),
                 SourceField("modality", "the DICOM Modality of the series to take (default SM, slides)"),
                 SourceField("series_description", "only series whose SeriesDescription matches this glob "
                             "(case-insensitive, e.g. `FFPE*`)")),
         required=(("collections",),), locators=("collections", "modality", "series_description"),
         own_download=True,
         file_fields=(SourceField("collection", "the IDC collection id, e.g. cptac_ov"),
                      SourceField("patient", "the DICOM PatientID (e.g. TCGA-3C-AAAU)"),
                      SourceField("study", "the StudyInstanceUID"),
                      SourceField("series", "the SeriesInstanceUID (one series = one slide)"),
                      SourceField("series_description", "the SeriesDescription (TCGA: `FFPE ...` "
                                  "diagnostic or `Frozen ...` tissue slides)"),
                      SourceField("modality", "the DICOM Modality (SM for slides)"),
                      SourceField("license", "the series' license as IDC names it, e.g. CC BY 4.0")),
         group_by="collection"),
    Kind("tcia-pathdb", "tcia_pathdb", "a collection of TCIA's pathology image database (PathDB)",
         fields=(SourceField("collection_id", "the numeric PathDB collection id (names drift, ids do not)",
                             "digits"),),
         required=(("collection_id",),), locators=("collection_id",),
         file_fields=(SourceField("collection", "the PathDB collection's name, e.g. CPTAC_OV"),
                      SourceField("collection_id", "the numeric PathDB collection id"),
                      SourceField("patient", "the subject id (clinicaltrialsubjectid)"),
                      SourceField("image", "the image id"),
                      SourceField("width", "the image width in pixels"),
                      SourceField("height", "the image height in pixels"),
                      SourceField("mpp_x", "µm per pixel across, when PathDB knows it"),
                      SourceField("mpp_y", "µm per pixel down, when PathDB knows it")),
         group_by="collection"),
    Kind("bisque", "bisque", "a dataset on a BisQue image server (e.g. UCSB's bisque2.ece.ucsb.edu)",
         fields=(SourceField("dataset", "the dataset's data_service URL, "
                             "e.g. https://bisque2.ece.ucsb.edu/data_service/00-...", "url"),),
         required=(("dataset",),), locators=("dataset",),
         file_fields=(SourceField("resource", "the member's BisQue resource id (00-...)"),
                      SourceField("dataset", "the dataset's BisQue resource id"))),
    Kind("manual", "manual", "files a person downloads by hand, adopted with `fetch --from`",
         fields=(SourceField("patterns", "files expected by pattern besides the listed ones (globs on their "
                             "path in DIR, e.g. `*.mrxs`); each must match at least one file, and a "
                             "matched `.mrxs` brings its same-name folder", "list[str]"),),
         automatic=False),
)}


def kind(name: str) -> Kind:
    """The row of kind `name`; KeyError for an unknown kind."""
    return KINDS[name]


def kind_names() -> tuple[str, ...]:
    """Every kind, in the table's order."""
    return tuple(KINDS)


def automatic_kinds() -> frozenset[str]:
    """The kinds `fetch` uses without a person."""
    return frozenset(name for name, row in KINDS.items() if row.automatic)


def own_download_kinds() -> frozenset[str]:
    """The kinds whose modules have a `download` step of their own."""
    return frozenset(name for name, row in KINDS.items() if row.own_download)
