"""Public S3 against moto's real S3 server: ListObjectsV2 paging past 1000 keys, the prefix naming
rule (same base names under different folders stay apart), ETags (single-part md5 vs multipart),
anonymous virtual-host URLs reached through the mirror map."""
import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from histodata.http import new_session
from histodata.registry.models import Source
from histodata.sources import s3

BUCKET, REGION = "histo-public", "us-west-2"
VIRTUAL_HOST = f"https://{BUCKET}.s3.{REGION}.amazonaws.com"
IMAGES = 1005  # more than one ListObjectsV2 page
MULTIPART = b"m" * (5 << 20) + b"tail"


@pytest.fixture(scope="module")
def moto_url():
    """moto's S3 server with a public bucket: >1000 images, masks with the same base names,
    a folder marker, a multipart object and a key outside the prefix."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=url, region_name=REGION, aws_access_key_id="test",
                          aws_secret_access_key="test")
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    objects = {f"CAMELYON16/images/normal_{i:04d}.tif": f"image {i}".encode() for i in range(IMAGES)}
    objects.update({"CAMELYON16/masks/normal_0001.tif": b"mask 1", "CAMELYON16/README.md": b"# readme",
                    "CAMELYON16/empty/": b"", "OTHER/x.txt": b"outside"})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda kv: client.put_object(Bucket=BUCKET, Key=kv[0], Body=kv[1], ACL="public-read"),
                      objects.items()))
    upload = client.create_multipart_upload(Bucket=BUCKET, Key="CAMELYON16/big.bin", ACL="public-read")
    parts = [client.upload_part(Bucket=BUCKET, Key="CAMELYON16/big.bin", UploadId=upload["UploadId"],
                                PartNumber=n, Body=body)
             for n, body in ((1, MULTIPART[:5 << 20]), (2, MULTIPART[5 << 20:]))]
    client.complete_multipart_upload(Bucket=BUCKET, Key="CAMELYON16/big.bin", UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": [{"ETag": p["ETag"], "PartNumber": n}
                                                                for n, p in enumerate(parts, 1)]})
    yield url
    server.stop()


@pytest.fixture
def bucket(moto_url, monkeypatch):
    monkeypatch.setenv("HISTODATA_MIRRORS", f"{VIRTUAL_HOST}={moto_url}/{BUCKET}")
    return moto_url


def listed(prefix=None, counter=None):
    session = new_session()
    if counter is not None:
        session.hooks["response"].append(lambda r, *a, **k: counter.append(r.url))
    source = Source(kind="s3", bucket=BUCKET, region=REGION, prefix=prefix)
    return {f.name: f for f in s3.list_files(source, session, None)}


def test_paging_past_1000_keys_and_same_base_names_stay_apart(bucket):
    requests = []
    files = listed("CAMELYON16/", requests)
    assert len(requests) == 2 and "continuation-token=" in requests[1]
    assert len(files) == IMAGES + 3               # + mask, README, big.bin; no folder marker, no OTHER/
    assert files["CAMELYON16/masks/normal_0001.tif"].size == 6
    assert files["CAMELYON16/images/normal_0001.tif"].size == len(b"image 1")
    assert all(not name.endswith("/") for name in files)


def test_prefix_keeps_its_last_folder_in_names(bucket):
    files = listed("CAMELYON16/images/")
    assert len(files) == IMAGES and "images/normal_1004.tif" in files
    assert set(listed("CAMELYON16/images/normal_100")) == {f"normal_100{i}.tif" for i in range(5)}


def test_single_part_etag_is_an_md5_and_multipart_is_not(bucket):
    files = listed("CAMELYON16/")
    assert files["CAMELYON16/README.md"].checksums == {"md5": hashlib.md5(b"# readme").hexdigest()}
    assert files["CAMELYON16/big.bin"].checksums == {}
    assert files["CAMELYON16/big.bin"].size == len(MULTIPART)


def test_urls_are_virtual_host_and_anonymous(bucket):
    remote = listed("CAMELYON16/")["CAMELYON16/masks/normal_0001.tif"]
    assert remote.url == f"{VIRTUAL_HOST}/CAMELYON16/masks/normal_0001.tif"
    assert remote.headers == {}
    assert new_session().get(remote.url).content == b"mask 1"


def test_an_empty_prefix_is_a_clear_error(bucket):
    from histodata.errors import DownloadError

    with pytest.raises(DownloadError, match="no objects under 'NOPE/'"):
        listed("NOPE/")


@pytest.mark.parametrize("etag, md5", [('"6805f2cfc46c0f04559748bb039d69ae"',
                                        "6805f2cfc46c0f04559748bb039d69ae"),
                                       ('"9b2cf535f27731c974343645a3985328-161"', None), ("", None)])
def test_etag_meaning(etag, md5):
    assert s3.etag_md5(etag) == md5


@pytest.mark.parametrize("prefix, dropped", [("", ""), ("a/", ""), ("a/b/", "a/"), ("a/b/tum", "a/b/")])
def test_parent_folder_rule(prefix, dropped):
    assert s3.parent_folder(prefix) == dropped


def test_fetch_end_to_end_with_subset_repeated_base_names_and_multipart(bucket, extra_registry):
    import json

    from helpers import run_cli
    from emulators.entries import entry_yaml
    from histodata.layout import dataset_paths, read_record

    extra_registry(entry_yaml("camelyon-s3", {"kind": "s3", "bucket": BUCKET, "region": REGION,
                                              "prefix": "CAMELYON16/"}))
    plan = json.loads(run_cli("fetch", "camelyon-s3", "--dry-run", "--json").stdout)
    assert len(plan["files"]) == IMAGES + 3
    result = run_cli("fetch", "camelyon-s3", "--files", "normal_0001.tif", "--files", "*/big.bin", "--json")
    assert result.returncode == 0, result.stderr
    raw = dataset_paths("camelyon-s3").raw
    assert (raw / "CAMELYON16/images/normal_0001.tif").read_bytes() == b"image 1"
    assert (raw / "CAMELYON16/masks/normal_0001.tif").read_bytes() == b"mask 1"
    assert (raw / "CAMELYON16/big.bin").read_bytes() == MULTIPART
    files = read_record(dataset_paths("camelyon-s3"))["files"]
    mask = files["CAMELYON16/masks/normal_0001.tif"]
    assert mask["verified"] == {"md5": hashlib.md5(b"mask 1").hexdigest()}
    assert files["CAMELYON16/big.bin"]["verified_against"] == "none"
    assert "1 file(s) are unverified" in result.stderr


def test_a_truncated_listing_without_tokens_continues_after_the_last_key(monkeypatch):
    """Some S3-compatible servers answer list-type=2 without NextContinuationToken."""
    from emulators.service import EmulatorServer, Reply

    keys = [f"k/{i:02d}.bin" for i in range(5)]
    server = EmulatorServer()

    @server.route("GET", r"/plain/")
    def listing(request):
        rest = [k for k in keys if k > request.query.get("start-after", "")]
        page, more = rest[:2], len(rest) > 2
        contents = "".join(f"<Contents><Key>{k}</Key><Size>1</Size><ETag>&quot;x-1&quot;</ETag></Contents>"
                           for k in page)
        return Reply(200, f'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                          f"<IsTruncated>{str(more).lower()}</IsTruncated>{contents}</ListBucketResult>",
                     content_type="application/xml")

    with server:
        source = Source(kind="s3", bucket="plain", endpoint=server.url)
        names = [f.name for f in s3.list_files(source, new_session(), None)]
    assert names == keys


@pytest.fixture
def bucket_with_manifest(moto_url, monkeypatch):
    import boto3

    client = boto3.client("s3", endpoint_url=moto_url, region_name="eu-west-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    client.create_bucket(Bucket="with-manifest",
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    objects = {"DATA/images/a.tif": b"image a", "DATA/masks/a.tif": b"mask a", "DATA/b.tif": b"b"}
    lines = [f"{hashlib.sha256(data).hexdigest()}  ./{key[len('DATA/'):]}" for key, data in objects.items()]
    lines[-1] = f"{'0' * 64}  ./b.tif"                 # a wrong published checksum
    objects["DATA/checksums.sha256"] = "\n".join(lines).encode()
    for key, data in objects.items():
        client.put_object(Bucket="with-manifest", Key=key, Body=data, ACL="public-read")
    monkeypatch.setenv("HISTODATA_MIRRORS",
                       f"https://with-manifest.s3.eu-west-1.amazonaws.com={moto_url}/with-manifest")
    return objects


def test_fetch_verifies_files_against_the_sources_published_manifest(bucket_with_manifest, extra_registry):
    import histodata
    from emulators.entries import entry_yaml
    from histodata.errors import ChecksumError
    from histodata.layout import dataset_paths, read_record

    extra_registry(entry_yaml("manifested", {"kind": "s3", "bucket": "with-manifest", "region": "eu-west-1",
                                             "prefix": "DATA/", "checksums_file": "DATA/checksums.sha256"}))
    plan = {f.name: f.checksum for f in histodata.fetch("manifested", dry_run=True).files}
    assert plan["DATA/masks/a.tif"] == "md5+sha256 (provider)"
    with pytest.raises(ChecksumError, match="sha256"):
        histodata.fetch("manifested", quiet=True)
    files = read_record(dataset_paths("manifested"))["files"]
    assert files["DATA/images/a.tif"]["verified"]["sha256"] == hashlib.sha256(b"image a").hexdigest()
    assert "DATA/b.tif" not in files and not dataset_paths("manifested").raw_file("DATA/b.tif").exists()


def test_keys_become_literal_url_paths():
    assert s3.key_path("a b/../c+d/./e.tif") == "a%20b/%2E%2E/c%2Bd/%2E/e.tif"
