"""NCI Imaging Data Commons stand-ins: a tiny series index in the real schema of idc-index-data's
`idc_index.parquet`, installed as a stand-in `idc_index_data` package (same attributes:
`IDC_INDEX_PARQUET_FILEPATH`, `__version__`), and the public bucket `idc-open-data` in moto's S3
server (objects `<crdc_series_uuid>/<crdc_instance_uuid>.dcm`, public-read, us-east-1).

The index holds traps an `idc` source must leave out: a CT and an annotation (ANN) series in a slide
collection, a series of another collection, and a series whose objects the bucket lacks.
(Schema: shared/reference/protocols-nci.md section 2.1, `idc_index_schema.json`.)
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

BUCKET = "idc-open-data"
ORIGIN = f"https://{BUCKET}.s3.us-east-1.amazonaws.com"
VERSION = "25.0.5"

STRING_COLUMNS = ("collection_id", "analysis_result_id", "PatientID", "SeriesInstanceUID", "StudyInstanceUID",
                  "source_DOI", "PatientAge", "PatientSex", "StudyDate", "StudyDescription", "BodyPartExamined",
                  "Modality", "SOPClassUID", "sop_class_name", "TransferSyntaxUID", "transfer_syntax_name",
                  "PhotometricInterpretation", "PixelRepresentation", "Manufacturer", "ManufacturerModelName",
                  "SeriesDate", "SeriesDescription", "SeriesNumber", "license_short_name", "aws_bucket",
                  "crdc_series_uuid", "series_aws_url")
INT_COLUMNS = ("instanceCount", "series_init_idc_version", "series_revised_idc_version")
ORDER = STRING_COLUMNS[:23] + ("instanceCount", "license_short_name", "series_init_idc_version",
                               "series_revised_idc_version", "aws_bucket", "crdc_series_uuid", "series_aws_url",
                               "series_size_MB")


@dataclass
class Series:
    collection: str
    patient: str
    description: str
    instances: dict[str, bytes]                 # crdc_instance_uuid -> bytes
    modality: str = "SM"
    license: str = "CC BY 4.0"
    in_bucket: bool = True
    multipart: set[str] = field(default_factory=set)   # instances uploaded in two parts (ETag not an md5)
    uid: str = ""
    study: str = ""
    crdc: str = ""

    def __post_init__(self):
        seed = f"{self.collection}/{self.patient}/{self.description}/{self.modality}"
        self.uid = self.uid or f"1.3.6.1.4.1.5962.99.1.{uuid.uuid5(uuid.NAMESPACE_URL, seed).int % 10**12}.2.0"
        self.study = self.study or f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, self.patient).int}"
        self.crdc = self.crdc or str(uuid.uuid5(uuid.NAMESPACE_URL, seed + "/crdc"))

    @property
    def size_mb(self) -> float:
        return sum(len(data) for data in self.instances.values()) / 1e6

    def row(self) -> dict:
        row = dict.fromkeys(ORDER)
        row.update({"collection_id": self.collection, "PatientID": self.patient, "SeriesInstanceUID": self.uid,
                    "StudyInstanceUID": self.study, "source_DOI": "10.5281/zenodo.12689962",
                    "StudyDate": "2014-02-05", "StudyDescription": "Histopathology", "Modality": self.modality,
                    "SOPClassUID": "1.2.840.10008.5.1.4.1.1.77.1.6",
                    "sop_class_name": "VL Whole Slide Microscopy Image Storage",
                    "TransferSyntaxUID": "1.2.840.10008.1.2.1,1.2.840.10008.1.2.4.50",
                    "transfer_syntax_name": "Explicit VR Little Endian,JPEG Baseline",
                    "PhotometricInterpretation": "RGB", "PixelRepresentation": "0",
                    "Manufacturer": "Leica Biosystems",
                    "ManufacturerModelName": "Aperio converted by com.pixelmed.convert.TIFFToDicom",
                    "SeriesDate": "2014-02-05", "SeriesDescription": self.description, "SeriesNumber": "1",
                    "instanceCount": len(self.instances), "license_short_name": self.license,
                    "series_init_idc_version": 8, "series_revised_idc_version": 10, "aws_bucket": BUCKET,
                    "crdc_series_uuid": self.crdc, "series_aws_url": f"s3://{BUCKET}/{self.crdc}/*",
                    "series_size_MB": self.size_mb})
        return row


def instances(label: str, count: int, size: int = 64) -> dict[str, bytes]:
    return {str(uuid.uuid5(uuid.NAMESPACE_URL, f"{label}/{i}")): f"DICM {label} {i} ".encode().ljust(size, b".")
            for i in range(count)}


def write_index_package(folder: Path, series: list[Series]) -> Path:
    """A stand-in `idc_index_data` package in `folder` (put it on sys.path / PYTHONPATH)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    package = folder / "idc_index_data"
    package.mkdir(parents=True, exist_ok=True)
    types = {**{c: pa.large_string() for c in STRING_COLUMNS}, **{c: pa.int64() for c in INT_COLUMNS},
             "series_size_MB": pa.float64()}
    schema = pa.schema([(name, types[name]) for name in ORDER])
    pq.write_table(pa.Table.from_pylist([s.row() for s in series], schema=schema), package / "idc_index.parquet")
    (package / "__init__.py").write_text(
        "from pathlib import Path\n\n"
        f"__version__ = {VERSION!r}\n"
        'IDC_INDEX_PARQUET_FILEPATH = Path(__file__).parent / "idc_index.parquet"\n')
    return folder


def fill_bucket(client, series: list[Series]) -> None:
    """Put every in-bucket series' instances into the bucket (public-read), plus a folder marker and a
    non-DICOM object that listings must skip."""
    for one in series:
        if not one.in_bucket:
            continue
        for instance, data in one.instances.items():
            key = f"{one.crdc}/{instance}.dcm"
            if instance in one.multipart:
                upload = client.create_multipart_upload(Bucket=BUCKET, Key=key, ACL="public-read")
                part = client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload["UploadId"], PartNumber=1,
                                          Body=data)
                client.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload["UploadId"],
                                                 MultipartUpload={"Parts": [{"ETag": part["ETag"],
                                                                             "PartNumber": 1}]})
            else:
                client.put_object(Bucket=BUCKET, Key=key, Body=data, ACL="public-read")
        client.put_object(Bucket=BUCKET, Key=f"{one.crdc}/", Body=b"", ACL="public-read")
        client.put_object(Bucket=BUCKET, Key=f"{one.crdc}/README.txt", Body=b"not dicom", ACL="public-read")
