"""The `s3` file store: content-addressed objects in an S3-compatible bucket (AWS S3, MinIO, Ceph,
R2, …), readable from every host that reaches the bucket; STORAGE_DIR holds this host's cache
of the files the judge prompt reads (gold images).

boto3 does the talking: it finds the credentials (AWS_* variables, the shared config files, an
instance or IRSA role: never the service's settings), signs requests (SigV4) and retries them
(up to three attempts, each with bounded timeouts). Its calls block, so each one runs in a
thread.

The bucket cannot join the database transaction. `put` writes the object at once, before the
rows that name it commit, so a committed row never names a missing object. A unit of work that
rolls back after its `put` leaves an object no row names: a few unused bytes, never a wrong
answer, since the key is the content's hash and the same bytes stored later land on it again.

boto3 is the optional `s3` extra: it is imported only when an s3 store is built, so a service
installed without it runs every other store.
"""

import asyncio
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ConfigurationError, Settings
from app.storage import cached_file, sha256_hex

PROBE_TIMEOUT_SECONDS = 2.0
"""Connect and read timeout of the readiness probe's one attempt (the probe allows 3 s)."""

STORE_CONNECT_TIMEOUT_SECONDS = 5.0
STORE_READ_TIMEOUT_SECONDS = 30.0
"""Of each attempt of the store's reads and writes (three attempts at most)."""

INSTALL_HINT = "install the s3 extra: pip install 'mmrarebench-leaderboard[s3]'"

# The names boto3 sends (botocore checks each request against the same pattern); S3 itself is
# stricter (3–63 lowercase characters), S3-compatible servers vary.
BUCKET_NAME = re.compile(r"[a-zA-Z0-9.\-_]{1,255}")


ENDPOINT_HINT = (
    "S3_ENDPOINT_URL is not a server's URL: give http(s)://host[:port], e.g. http://minio:9000, "
    "or unset it for AWS S3"
)


def _check_endpoint(url: str) -> None:
    """What botocore would let through and fail on later: another scheme, or a bad port."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018  (raises ValueError when the port is not 0–65535)
    except ValueError:
        usable = False
    if not usable:
        raise ConfigurationError(ENDPOINT_HINT)


class BucketRefused(Exception):
    """The bucket's server answered the probe with an error status: 404, no such bucket; 403,
    these credentials may not use it."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the bucket answered HTTP {status}")
        self.status = status


class S3Store:
    """Objects `{prefix}{sha256}` in `bucket`. `client` serves the store's reads and writes;
    `probe_client` only the readiness probe, with one short attempt, so probes of a bucket that
    hangs never pile up threads waiting on retries."""

    def __init__(
        self, client: Any, probe_client: Any, bucket: str, prefix: str, cache_dir: Path
    ) -> None:
        self.client = client
        self.probe_client = probe_client
        self.bucket = bucket
        self.prefix = prefix
        self.cache_dir = cache_dir

    @classmethod
    def from_settings(cls, settings: Settings) -> "S3Store":
        """A store with its boto3 clients; ConfigurationError when S3_BUCKET is unset or boto3
        is not installed."""
        if not settings.s3_bucket:
            raise ConfigurationError(
                "STORAGE_BACKEND=s3 needs S3_BUCKET: set it to the name of an existing bucket "
                "(credentials come from the AWS environment, e.g. AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or an instance role)"
            )
        if not BUCKET_NAME.fullmatch(settings.s3_bucket):
            raise ConfigurationError(
                "S3_BUCKET is not a bucket name: use letters, digits, '.', '-' and '_' only, "
                "at most 255 of them"
            )
        if settings.s3_endpoint_url:
            _check_endpoint(settings.s3_endpoint_url)
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import InvalidRegionError
        except ImportError:
            raise ConfigurationError(
                f"STORAGE_BACKEND=s3 needs boto3, which is not installed: {INSTALL_HINT}"
            ) from None
        # S3-compatible servers (MinIO, Ceph) are reached by path: a virtual-hosted address
        # would need DNS for every bucket name under the server's host.
        addressing = {"addressing_style": "path"} if settings.s3_endpoint_url else None
        session = boto3.session.Session(region_name=settings.s3_region or None)

        def client(config: Any) -> Any:
            return session.client(
                "s3", endpoint_url=settings.s3_endpoint_url or None, config=config
            )

        probe = Config(
            s3=addressing,
            connect_timeout=PROBE_TIMEOUT_SECONDS,
            read_timeout=PROBE_TIMEOUT_SECONDS,
            retries={"total_max_attempts": 1},
        )
        # Bounded, so a bucket that hangs holds an upload (and a worker thread) for seconds,
        # not for botocore's default minute per attempt.
        store = Config(
            s3=addressing,
            connect_timeout=STORE_CONNECT_TIMEOUT_SECONDS,
            read_timeout=STORE_READ_TIMEOUT_SECONDS,
            retries={"mode": "standard", "total_max_attempts": 3},
        )
        try:
            clients = client(store), client(probe)
        except InvalidRegionError:
            raise ConfigurationError(
                "S3_REGION is not a region name: give one such as us-east-1, or unset it"
            ) from None
        except ValueError:  # botocore refuses the endpoint's host name
            raise ConfigurationError(ENDPOINT_HINT) from None
        return cls(
            client=clients[0],
            probe_client=clients[1],
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            cache_dir=settings.storage_dir,
        )

    async def put(self, session: AsyncSession, data: bytes) -> str:
        # Written now, not at commit: see the module's docstring.
        return await asyncio.to_thread(self._put, data)

    async def read(self, session: AsyncSession, sha256: str) -> bytes:
        data = await asyncio.to_thread(self._get, sha256)
        if data is None:
            raise FileNotFoundError(f"no stored file with sha256 {sha256}")
        return data

    async def local_file(self, session: AsyncSession, sha256: str, suffix: str) -> Path:
        return await cached_file(
            self.cache_dir, sha256, suffix, lambda: asyncio.to_thread(self._get, sha256)
        )

    async def check_bucket(self) -> None:
        """HEAD the bucket (cheap, no object read): BucketRefused when the server answers with
        an error, the transport's error when it cannot be reached."""
        await asyncio.to_thread(self._head_bucket)

    async def aclose(self) -> None:
        self.client.close()
        self.probe_client.close()

    def key(self, sha256: str) -> str:
        return f"{self.prefix}{sha256}"

    def _put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        self.client.put_object(Bucket=self.bucket, Key=self.key(digest), Body=data)
        return digest

    def _get(self, sha256: str) -> bytes | None:
        """The object's bytes; None when the bucket has no such key (a missing bucket or a
        refused request raises: neither means "nothing stored")."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except self.client.exceptions.NoSuchKey:
            return None
        with response["Body"] as body:
            data: bytes = body.read()
        return data

    def _head_bucket(self) -> None:
        try:
            self.probe_client.head_bucket(Bucket=self.bucket)
        except self.probe_client.exceptions.ClientError as exc:
            raise BucketRefused(exc.response["ResponseMetadata"]["HTTPStatusCode"]) from None
