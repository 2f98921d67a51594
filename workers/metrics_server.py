"""`mmrare worker --metrics-port P`: the worker's `/metrics`, the same exposition as the API's.

A few lines of asyncio streams rather than a second web server: a scrape is one small GET, and
a web framework's server would take over the signal handlers arq needs for a clean shutdown."""

import asyncio
import contextlib

from app.observability.metrics import CONTENT_TYPE, render
from app.runtime import Runtime
from app.services.metrics import state_snapshot

REQUEST_HEAD_LIMIT = 8192
READ_TIMEOUT_SECONDS = 5.0


async def start_metrics_server(runtime: Runtime, host: str, port: int) -> asyncio.Server:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(
                reader.readuntil(b"\r\n\r\n"), timeout=READ_TIMEOUT_SECONDS
            )
            method, _, rest = head[:REQUEST_HEAD_LIMIT].partition(b" ")
            path = rest.split(b" ", 1)[0].split(b"?", 1)[0]
            if method == b"GET" and path == b"/metrics":
                body, status, kind = render(await state_snapshot(runtime)), "200 OK", CONTENT_TYPE
            else:
                body, status, kind = b"only GET /metrics here\n", "404 Not Found", "text/plain"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # a slow or malformed client gets nothing; the next scrape starts afresh
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    return await asyncio.start_server(answer, host, port, limit=REQUEST_HEAD_LIMIT)
