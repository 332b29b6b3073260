"""`kind: s3` — a public bucket (or a prefix of it), listed with ListObjectsV2, no credentials.

URLs are virtual-host style with the region, `https://<bucket>.s3.<region>.amazonaws.com/<key>`
(or path style `<endpoint>/<bucket>/<key>` when the source gives an `endpoint`), so the mirror map
can redirect them. Requests are anonymous: nothing is signed.

File names: a key keeps its path relative to the *parent folder of the prefix*, i.e. the last
folder of the prefix stays in the name. Prefix `CAMELYON16/images/` gives `images/normal_001.tif`;
prefix `CAMELYON16/` gives `CAMELYON16/images/normal_001.tif` and `CAMELYON16/masks/normal_001.tif`
(no prefix: the full key). Everything below the prefix is kept, so two objects with the same base
name under different folders never collide.

Checksums: an ETag is an md5 only for single-part uploads (32 hex digits); a multipart ETag
(`<hex>-<parts>`) is not, and is ignored.
"""
from __future__ import annotations

import re
from urllib.parse import quote, unquote_plus

from ..errors import DownloadError
from .base import RemoteFile, api_get, remote_name, xml_document
from .pager import Pager
from .untrusted import answer_error, count

MAX_KEYS = 1000
_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")


def bucket_url(source) -> str:
    return bucket_base(source.bucket, source.region, source.endpoint)


def bucket_base(bucket: str, region: str | None = None, endpoint: str | None = None) -> str:
    """The bucket's URL: path style under `endpoint`, else virtual-host style in `region`."""
    if endpoint:
        return f"{endpoint.rstrip('/')}/{bucket}"
    return f"https://{bucket}.s3.{region}.amazonaws.com"


def parent_folder(prefix: str) -> str:
    """The part of every key that is dropped from file names: the prefix's parent folder."""
    head, sep, _ = prefix.rstrip("/").rpartition("/")
    return head + sep


def list_files(source, session, entry) -> list[RemoteFile]:
    prefix = source.prefix or ""
    files = prefix_files(session, bucket_url(source), source.bucket, prefix, parent_folder(prefix))
    if not files:
        raise DownloadError(f"S3 bucket {source.bucket} has no objects under {prefix or 'its root'!r}.",
                            "Check the bucket, region and prefix of the registry entry.")
    return files


def prefix_files(session, base: str, bucket: str, prefix: str, drop: str = "") -> list[RemoteFile]:
    """Every object under `prefix` of the bucket at `base` (folder markers left out), anonymously, as
    RemoteFiles named by their key less `drop`, with the listing's sizes and md5 ETags (also for
    other kinds whose data sits in a public bucket, such as `idc`)."""
    objects = [o for o in list_objects(session, base, prefix, bucket) if not o["Key"].endswith("/")]
    return [remote_file(base, obj, drop) for obj in objects]


def list_objects(session, base: str, prefix: str, bucket: str) -> list[dict]:
    """Every object under `prefix`: ListObjectsV2 pages of 1000, following continuation tokens
    (or, from a server that sends none, continuing after the last key), under the pager's rule
    (a repeated token or a page of keys already listed ends the listing; a page cap)."""
    objects: list[dict] = []
    # encoding-type=url: keys may hold characters XML 1.0 cannot carry (control characters)
    params = {"list-type": "2", "max-keys": str(MAX_KEYS), "encoding-type": "url",
              **({"prefix": prefix} if prefix else {})}
    pager = Pager(f"S3 bucket {bucket}", key=lambda obj: obj.get("Key"))
    token = None
    while pager.ask(token):
        page = xml_document(api_get(session, f"{base}/", what=f"S3 bucket {bucket}", params=params).content,
                            f"the listing of S3 bucket {bucket}")
        fields = child_texts(page)
        batch = [decoded_keys(child_texts(c), fields) for c in page if local_name(c.tag) == "Contents"]
        if any("Key" not in obj for obj in batch):
            raise answer_error(f"S3 bucket {bucket}", "an object of the listing", "without a Key")
        objects += pager.fresh(batch)
        if fields.get("IsTruncated", "false").lower() != "true" or pager.stalled:
            return objects
        if not fields.get("NextContinuationToken") and not batch:
            raise DownloadError(f"S3 bucket {bucket}: a truncated listing came without keys or a "
                                "continuation token.")
        params = {k: v for k, v in params.items() if k not in ("continuation-token", "start-after")}
        if fields.get("NextContinuationToken"):
            token = ("continuation-token", fields["NextContinuationToken"])
        else:
            token = ("start-after", batch[-1]["Key"])
        params[token[0]] = token[1]
    return objects


def decoded_keys(obj: dict, page: dict) -> dict:
    """The object with its real key: URL-decoded when the listing says EncodingType url (as
    botocore does; a server ignoring the parameter sends plain keys and says nothing)."""
    if page.get("EncodingType", "").lower() == "url" and "Key" in obj:
        obj["Key"] = unquote_plus(obj["Key"])
    return obj


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child_texts(element) -> dict[str, str]:
    """{child tag without namespace: text} (unknown elements are simply carried along)."""
    return {local_name(child.tag): (child.text or "") for child in element}


def etag_md5(etag: str | None) -> str | None:
    """The md5 an ETag stands for, or None (multipart `-N`, SSE-KMS, missing)."""
    value = (etag or "").strip().strip('"').replace("&quot;", "").lower()
    return value if _MD5_ETAG.match(value) else None


def key_path(key: str) -> str:
    """A key as a URL path: percent-encoded, with `.`/`..` segments encoded too so that no client
    or server removes them as dot segments (S3 keys are literal)."""
    return "/".join(quote(part, safe="~") if part not in (".", "..") else part.replace(".", "%2E")
                    for part in key.split("/"))


def remote_file(base: str, obj: dict, drop: str) -> RemoteFile:
    key = obj["Key"]
    md5 = etag_md5(obj.get("ETag"))
    size = count(obj, "Size", "S3", what=f"the Size of {key!r}")
    return RemoteFile(name=remote_name(key[len(drop):]), url=f"{base}/{key_path(key)}", size=size,
                      checksums={"md5": md5} if md5 else {},
                      checksum_origin="provider" if md5 else None, source_kind="s3")
