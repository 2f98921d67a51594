"""The stand-in judge server: an OpenAI-compatible ASGI app with fault injection, and `serve`.

Routes
    POST /chat/completions, /v1/chat/completions   rated by `app.standin.rating`
    GET  /models, /v1/models                        lists the one model, STANDIN_MODEL
    GET  /_standin/stats                            requests, in_flight, max_in_flight,
                                                    status_counts (499 = the client left during
                                                    a hang), outcomes, rejected_429, repeats,
                                                    images
    GET  /_standin/control                          the current knobs
    POST /_standin/control                          a JSON object of knob changes (all valid or
                                                    none applied; 400 names the bad one);
                                                    `"reset_stats": true` resets the stats

A chat request naming another model gets 404, one without a json_schema response_format gets
400, as a real server would answer, so the client's fail-fast path can be exercised.
"""

import asyncio
import hashlib
import json
import socket
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from app.judge import STANDIN_MODEL
from app.standin import protocol
from app.standin.asgi import (
    Headers,
    Receive,
    Scope,
    Send,
    lifespan,
    read_body,
    send_json,
    wait_for_disconnect,
)
from app.standin.faults import FaultPlan
from app.standin.knobs import KnobError, StandinKnobs
from app.standin.rating import rate_prompt

READY_PREFIX = "mmrare stand-in judge ready on "
RESET_STATS = "reset_stats"


@dataclass
class StandinStats:
    requests: int = 0  # chat requests received
    in_flight: int = 0
    max_in_flight: int = 0
    rejected_429: int = 0  # 429s sent because max_concurrency was exceeded
    repeats: int = 0  # chat requests with a body received before (the same item judged again)
    images: int = 0  # inline images received in chat requests that were answered
    status_counts: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)


class StandinJudge:
    """The ASGI app. State lives on the instance: one instance per server."""

    def __init__(self, knobs: StandinKnobs | None = None, **overrides: Any) -> None:
        knobs = (knobs or StandinKnobs()).updated(overrides)
        self.faults = FaultPlan(knobs)
        self.stats = StandinStats()
        self._completions = 0
        self._seen: set[bytes] = set()  # digests of the chat bodies received since the reset

    @property
    def knobs(self) -> StandinKnobs:
        return self.faults.knobs

    def knobs_json(self) -> dict[str, Any]:
        """The knobs as GET /_standin/control shows them (the script as far as it is left)."""
        return {**self.knobs.as_json(), "script": self.faults.remaining_script}

    def configure(self, changes: Mapping[str, Any]) -> None:
        """Apply knob changes atomically (all valid, or none applied)."""
        updates = {k: v for k, v in changes.items() if k != RESET_STATS}
        knobs = self.knobs.updated(updates)
        self.faults.reconfigure(knobs, reseed="seed" in updates, new_script="script" in updates)
        if changes.get(RESET_STATS):
            self.stats = StandinStats(in_flight=self.stats.in_flight)
            self._seen = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method: str = scope["method"]
        path: str = scope["path"]
        if path in ("/chat/completions", "/v1/chat/completions"):
            if method != "POST":
                await _send_error(send, 405, "use POST", "invalid_request_error")
                return
            await self._chat(receive, send)
        elif path in ("/models", "/v1/models"):
            await send_json(send, 200, protocol.model_list())
        elif path == "/_standin/stats":
            await send_json(send, 200, asdict(self.stats))
        elif path == "/_standin/control":
            await self._control(method, receive, send)
        else:
            await _send_error(send, 404, f"no route for {method} {path}", "not_found_error")

    async def _control(self, method: str, receive: Receive, send: Send) -> None:
        if method == "GET":
            await send_json(send, 200, {"knobs": self.knobs_json()})
            return
        if method != "POST":
            await _send_error(send, 405, "use GET or POST", "invalid_request_error")
            return
        try:
            changes = json.loads(await read_body(receive))
            if not isinstance(changes, dict):
                raise KnobError("control body must be a JSON object of knob changes")
            self.configure(changes)
        except ValueError as exc:  # KnobError, bad JSON, body too large
            await _send_error(send, 400, str(exc), "invalid_request_error")
            return
        await send_json(send, 200, {"knobs": self.knobs_json()})

    async def _chat(self, receive: Receive, send: Send) -> None:
        arrived = time.perf_counter()
        self.stats.requests += 1
        try:
            body = await read_body(receive)
        except ValueError as exc:
            await _send_error(send, 413, str(exc), "invalid_request_error")
            return
        stats = self.stats  # after the await: a control call may have reset the stats meanwhile
        digest = hashlib.blake2b(body, digest_size=16).digest()
        if digest in self._seen:
            stats.repeats += 1
        self._seen.add(digest)
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            status = await self._chat_reply(body, receive, send, arrived)
        finally:
            self.stats.in_flight -= 1
        key = str(status)
        self.stats.status_counts[key] = self.stats.status_counts.get(key, 0) + 1

    async def _chat_reply(self, body: bytes, receive: Receive, send: Send, arrived: float) -> int:
        knobs = self.knobs
        if knobs.max_concurrency and self.stats.in_flight > knobs.max_concurrency:
            self.stats.rejected_429 += 1
            headers = [(b"retry-after", _seconds(knobs.retry_after))]
            await _send_error(
                send, 429, "too many concurrent requests", "rate_limit_error", headers
            )
            return 429

        try:
            request = protocol.read_chat_request(json.loads(body))
        except ValueError as exc:
            await _send_error(send, 400, str(exc), "invalid_request_error")
            return 400
        if request.model != STANDIN_MODEL:
            message = f"The model {request.model[:100]!r} does not exist"
            await _send_error(send, 404, message, "not_found_error")
            return 404

        self.stats.images += request.images
        outcome = self.faults.next_outcome()
        self.stats.outcomes[outcome] = self.stats.outcomes.get(outcome, 0) + 1
        completion = None
        if not outcome.isdigit():
            ratings = json.dumps(rate_prompt(request.dimensions, request.user_text))
            self._completions += 1
            content = protocol.shape_content(ratings, outcome)
            completion = protocol.completion(request.raw, content, self._completions)
        if outcome == "timeout":
            if await wait_for_disconnect(receive, knobs.hang_seconds):
                return 499  # the client gave up; nothing to send
        elif knobs.latency_ms > 0:
            # The latency is the time from arrival to reply, as with a real model server: the
            # stand-in's own work happens inside it instead of adding to it.
            remaining = knobs.latency_ms / 1000 - (time.perf_counter() - arrived)
            await asyncio.sleep(max(remaining, 0.0))

        if completion is None:
            code = int(outcome)
            headers = [(b"retry-after", _seconds(knobs.retry_after))] if code == 429 else []
            await _send_error(send, code, f"scripted HTTP {code}", "standin_fault", headers)
            return code
        await send_json(send, 200, completion)
        return 200


async def _send_error(
    send: Send, status: int, message: str, kind: str, headers: Headers = ()
) -> None:
    await send_json(send, status, protocol.error_body(status, message, kind), headers)


def _seconds(value: float) -> bytes:
    return (str(int(value)) if float(value).is_integer() else f"{value:g}").encode()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: the OS picks a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # connections made before uvicorn starts accepting wait in the backlog
    sock.set_inheritable(True)
    return sock


def ready_line(host: str, port: int) -> str:
    url_host = f"[{host}]" if ":" in host else host
    return f"{READY_PREFIX}http://{url_host}:{port}/v1"


def serve(
    knobs: StandinKnobs, host: str = "127.0.0.1", port: int = 8090, log_level: str = "warning"
) -> None:
    """Serve the stand-in in the foreground until interrupted (SIGINT or SIGTERM).

    Prints one line `mmrare stand-in judge ready on http://HOST:PORT/v1` to stdout once the port
    is bound: with port 0, this is how a parent process learns the port.
    """
    import uvicorn  # the server only: importing this package stays cheap

    app = StandinJudge(knobs)
    sock = bind(host, port)
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on")
    print(ready_line(host, sock.getsockname()[1]), flush=True)
    uvicorn.Server(config).run(sockets=[sock])
