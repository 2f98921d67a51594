"""Uploaded files, stored content-addressed by sha256 before anything else happens to them."""

import hashlib
import os
import tempfile
from pathlib import Path


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store bytes and return their sha256; storing the same content twice is a no-op."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists():
            return digest
        write_atomically(target, data)
        return digest

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()


def write_atomically(target: Path, data: bytes) -> None:
    """Write-then-rename: a crash never leaves a half-written file under its final name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
