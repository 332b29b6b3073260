"""A public S3 bucket emulator (anonymous ListObjectsV2 and GET), for what moto cannot be made to do:

* `GET /?list-type=2&max-keys=N[&prefix=][&continuation-token=][&start-after=][&encoding-type=url]`
  -> `ListBucketResult` XML (namespace `http://s3.amazonaws.com/doc/2006-03-01/`) with `Contents`
  (`Key`, `Size`, `ETag`), `IsTruncated` and `NextContinuationToken` (opaque); `max-keys` is capped
  at `page_cap` (S3 caps at 1000); `EncodingType` url when asked (keys percent-encoded);
* `GET /<key>` -> the bytes, with single Range;
* faults: `paging = "repeat-token"` hands back the same continuation token forever; `"ignore-token"`
  answers every page as the first one (with a fresh token each time); `"endless"` never ends (new
  keys, new tokens); `sizes` overrides the `Size` text of keys (e.g. "big").
"""
from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote
from xml.sax.saxutils import escape

from .service import Emulator, EmulatorServer, Reply, Request, file_reply

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"


class S3Emulator(Emulator):
    """One public bucket at `https://<bucket>.s3.<region>.amazonaws.com` (virtual-host style)."""

    def __init__(self, bucket: str = "histo-public", region: str = "us-west-2", page_cap: int = 1000):
        self.server = EmulatorServer()
        self.bucket, self.region, self.page_cap = bucket, region, page_cap
        self.ORIGINS = {f"https://{bucket}.s3.{region}.amazonaws.com": "server"}
        self.objects: dict[str, bytes] = {}
        self.paging: str | None = None          # fault: "repeat-token" | "ignore-token" | "endless"
        self.sizes: dict[str, str] = {}         # fault: the Size text sent for a key
        self._served = 0
        self.server.route("GET", r"/")(self.listing)
        self.server.route("GET", r"/(?P<key>.+)")(self.get)

    @staticmethod
    def token(after: str) -> str:
        return base64.b64encode(b"after:" + after.encode()).decode()

    def listing(self, request: Request) -> Reply:
        q = request.query
        size = min(int(q.get("max-keys", 1000)), self.page_cap)
        keys = sorted(k for k in self.objects if k.startswith(q.get("prefix", "")))
        after = q.get("start-after", "")
        if q.get("continuation-token") and self.paging != "ignore-token":
            after = base64.b64decode(q["continuation-token"]).decode().removeprefix("after:")
        self._served += 1
        if self.paging == "endless":
            start = int(after.rsplit("-", 1)[-1]) + 1 if after else 0
            chunk = [f"endless-{n:09d}" for n in range(start, start + size)]
            truncated, following = True, self.token(chunk[-1])
        else:
            rest = [k for k in keys if k > after]
            chunk, truncated = rest[:size], len(rest) > size
            following = self.token(chunk[-1]) if truncated else ""
            if self.paging == "repeat-token":
                truncated, following = True, self.token(keys[size - 1] if len(keys) >= size else "")
            elif self.paging == "ignore-token":
                following = self.token(f"{chunk[-1] if chunk else ''}#{self._served}") if truncated else ""
        encode = q.get("encoding-type") == "url"
        contents = "".join(
            f"<Contents><Key>{escape(quote(key, safe='/') if encode else key)}</Key>"
            f"<Size>{escape(self.sizes.get(key, str(len(self.objects.get(key, b'x')))))}</Size>"
            f"<ETag>&quot;{hashlib.md5(self.objects.get(key, b'x')).hexdigest()}&quot;</ETag>"
            f"<StorageClass>STANDARD</StorageClass></Contents>" for key in chunk)
        body = (f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{NAMESPACE}">'
                f"<Name>{self.bucket}</Name><Prefix>{escape(q.get('prefix', ''))}</Prefix>"
                f"<KeyCount>{len(chunk)}</KeyCount><MaxKeys>{size}</MaxKeys>"
                + ("<EncodingType>url</EncodingType>" if encode else "")
                + f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
                + (f"<NextContinuationToken>{following}</NextContinuationToken>" if following else "")
                + contents + "</ListBucketResult>")
        return Reply(200, body, content_type="application/xml")

    def get(self, request: Request) -> Reply:
        from urllib.parse import unquote

        key = unquote(request.params["key"])
        if key not in self.objects:
            return Reply(404, "<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml")
        return file_reply(request, self.objects[key], {"ETag": f'"{hashlib.md5(self.objects[key]).hexdigest()}"'})
