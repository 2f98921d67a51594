"""The upload size limit over a real socket (uvicorn on loopback): the server stops reading an
oversized chunked upload, answers 413 and closes the connection, so the client cannot push
much more than the limit (what it pushed beyond is socket buffering, not server reads)."""

from __future__ import annotations

import select
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.helpers import serve, sqlite_template, team_token, web_settings

LIMIT = 1024 * 1024
CHUNK = 16 * 1024


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _read_response(sock: socket.socket) -> bytes:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass  # the server closed with unread data: a reset may follow its response
    return received


def test_the_server_stops_reading_a_stream_ten_times_the_limit(tmp_path: Path) -> None:
    settings = web_settings(sqlite_template(tmp_path), tmp_path, max_upload_bytes=LIMIT)
    token = team_token(settings.database_url, "alpha")
    total = 10 * LIMIT
    with serve(settings) as base_url:
        address = urlsplit(base_url)
        sock = socket.create_connection((address.hostname, address.port), timeout=20)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        head = (
            "POST /api/v1/submissions HTTP/1.1\r\n"
            f"Host: {address.netloc}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: multipart/form-data; boundary=b0undary\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
        form = (
            b'--b0undary\r\nContent-Disposition: form-data; name="track"\r\n\r\nT1\r\n'
            b'--b0undary\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n'
            b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="p.jsonl"\r\n'
            b"\r\n"
        )
        sent = 0
        with sock:
            sock.sendall(head + _chunk(form))
            try:
                while sent < total:
                    readable, _, _ = select.select([sock], [], [], 0)
                    if readable:  # the answer came while we were still sending
                        break
                    sock.sendall(_chunk(b"x" * CHUNK))  # blocks once buffers are full
                    sent += CHUNK
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server closed the connection: it will not read the rest
            response = _read_response(sock)
    assert sent < total, "the client could send the whole 10x-limit body"
    assert sent < 2 * LIMIT, f"the client pushed {sent:,} bytes for a {LIMIT:,}-byte limit"
    if not response:
        pytest.fail(f"no response after sending {sent:,} bytes")
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large", response[:300]
    assert b"connection: close" in rest.lower()
    assert b"the upload is larger than the 1,048,576-byte limit" in rest
