"""A deterministic, OpenAI-compatible reference judge for the demo, the tests and the benchmarks.

It is a plain ASGI callable (no framework) served by uvicorn. Its model name,
`mmrare-reference-judge-v1`, is distinct so its scores can never be mistaken for a real judge's.

Rating rule
-----------
For each `POST /chat/completions` (or `/v1/chat/completions`) it reads:

* the dimension ids, in order, from `response_format.json_schema.schema.properties`; an
  `integer` property is ordinal with the largest of its `enum` (or its `maximum`) as top value,
  any other `enum` is binary;
* the reference text: the sections `[reference_answer]`, `[aliases]` and `[targets]` of the
  block between a line `<<<REFERENCE tag>>>` and a line `<<<END REFERENCE tag>>>` in the user
  message (its text part when content is a list), joined; other sections are not rated;
* the candidate text: the block between `<<<CANDIDATE x>>>` and `<<<END CANDIDATE x>>>`.

With R = set(answer_tokens(reference)) and C = set(answer_tokens(candidate)) (SQuAD
normalisation), recall = |C ∩ R| / |R| (0 when R is empty). Dimension i of n (0-based) has the
threshold tᵢ = 0.15 + 0.6·i / max(n − 1, 1), so later dimensions are harder to earn:

* binary: "YES" iff recall ≥ tᵢ, else "NO";
* ordinal: the top value iff recall ≥ tᵢ, 1 iff recall ≥ tᵢ / 2, else 0.

The reply is a normal `chat.completion` whose content is that JSON object, with `usage`.

Knobs (constructor, CLI flags, or `POST /_standin/control` with a JSON object at runtime)
--------------------------------------------------------------------------------------------
latency_ms       time from a chat request's arrival to its reply (the stand-in's own work
                 happens inside it, as a real model server's does)
max_concurrency  chat requests in flight beyond this get 429 + Retry-After (0 = unlimited)
retry_after      the Retry-After seconds sent with a 429
error_500_rate   fraction of chat requests answered with HTTP 500
timeout_rate     fraction that hang for hang_seconds (or until the client leaves), then reply
malformed_rate   fraction whose reply content is not JSON
hang_seconds     how long a "timeout" fault hangs
seed             seeds the fault generator, so a run's faults are repeatable
script           forced outcomes consumed one per chat request before any random fault:
                 "ok", "malformed", "timeout", "null_content" (content null), "prose" (the JSON
                 wrapped in prose and a ```json fence), or an HTTP status such as "500", "429",
                 "400"; "429" carries Retry-After

`GET /_standin/stats` returns requests, in_flight, max_in_flight, status_counts (499 = the client
left during a hang), outcomes and rejected_429 (429s from the concurrency limit);
`{"reset_stats": true}` in a control call resets them. `GET /models` and `/v1/models` list the
model. A chat request naming another model gets 404, one without a json_schema response_format
gets 400 — like a real server, so the client's fail-fast path can be exercised.

Running it: `python -m app.judge.standin --port 8090 --latency-ms 100` (see --help), or
`run_standin(**standin_from_args(ns))` from another CLI. It prints one line
`mmrare stand-in judge ready on http://HOST:PORT/v1` once the port is bound. For tests,
`StandinThread` serves it in a background thread; for benchmarks, `StandinProcess` runs it as a
child process; both pick a free port when given port 0.
"""

import argparse
import asyncio
import json
import os
import random
import re
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from app.judge import STANDIN_MODEL
from app.scoring.f1 import answer_tokens

MALFORMED_CONTENT = "I am unable to provide a rating in the requested format for this answer."
_NAMED_OUTCOMES = frozenset({"ok", "malformed", "timeout", "null_content", "prose"})
_MAX_BODY = 64 * 1024 * 1024

_REFERENCE = re.compile(
    r"^[ \t]*<<<REFERENCE ([0-9A-Za-z]+)>>>[ \t]*\n(.*?)\n[ \t]*<<<END REFERENCE \1>>>[ \t]*$",
    re.M | re.S,
)
_SECTION = re.compile(r"^\[([a-z_]+)\] [^\n]*\n", re.M)
_RATED_SECTIONS = frozenset({"reference_answer", "aliases", "targets"})
_CANDIDATE = re.compile(r"<<<CANDIDATE ([0-9A-Za-z]+)>>>\n(.*?)\n<<<END CANDIDATE \1>>>", re.S)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class KnobError(ValueError):
    """An invalid knob value; the message names the knob."""


@dataclass
class StandinKnobs:
    latency_ms: float = 0.0
    max_concurrency: int = 0
    retry_after: float = 1.0
    error_500_rate: float = 0.0
    timeout_rate: float = 0.0
    malformed_rate: float = 0.0
    hang_seconds: float = 30.0
    seed: int = 0
    script: list[str] = field(default_factory=list)

    def validate(self) -> None:
        for name in ("latency_ms", "retry_after", "hang_seconds"):
            _require_number(name, getattr(self, name), low=0.0)
        for name in ("error_500_rate", "timeout_rate", "malformed_rate"):
            _require_number(name, getattr(self, name), low=0.0, high=1.0)
        if self.error_500_rate + self.timeout_rate + self.malformed_rate > 1.0:
            raise KnobError("error_500_rate + timeout_rate + malformed_rate must be ≤ 1")
        for name in ("max_concurrency", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise KnobError(f"{name} must be an integer, got {value!r}")
        if self.max_concurrency < 0:
            raise KnobError("max_concurrency must be ≥ 0 (0 = unlimited)")
        if not isinstance(self.script, list):
            raise KnobError("script must be a list of outcomes")
        for entry in self.script:
            if not _valid_outcome(entry):
                raise KnobError(
                    f"script: unknown outcome {entry!r} (use ok, malformed, timeout, "
                    "null_content, prose or an HTTP status 400–599)"
                )


@dataclass
class StandinStats:
    requests: int = 0  # chat requests received
    in_flight: int = 0
    max_in_flight: int = 0
    rejected_429: int = 0  # 429s sent because max_concurrency was exceeded
    status_counts: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)


class StandinJudge:
    """The ASGI app. State lives on the instance: one instance per server."""

    def __init__(self, knobs: StandinKnobs | None = None, **overrides: Any) -> None:
        knobs = knobs or StandinKnobs()
        try:
            knobs = replace(knobs, **overrides)
        except TypeError as exc:
            raise KnobError(f"unknown knob: {exc}") from None
        knobs.script = list(knobs.script)
        knobs.validate()
        self.knobs = knobs
        self.stats = StandinStats()
        self._rng = random.Random(knobs.seed)
        self._completions = 0

    def configure(self, changes: Mapping[str, Any]) -> None:
        """Apply knob changes atomically (all valid, or none applied)."""
        names = {f.name for f in fields(StandinKnobs)}
        unknown = sorted(set(changes) - names - {"reset_stats"})
        if unknown:
            raise KnobError(f"unknown knob(s): {', '.join(unknown)}")
        updates = {k: v for k, v in changes.items() if k in names}
        if "script" in updates and isinstance(updates["script"], list):
            updates["script"] = list(updates["script"])
        knobs = replace(self.knobs, **updates)
        knobs.validate()
        self.knobs = knobs
        if "seed" in updates:
            self._rng = random.Random(knobs.seed)
        if changes.get("reset_stats"):
            self.stats = StandinStats(in_flight=self.stats.in_flight)

    # --- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
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
            models = {
                "object": "list",
                "data": [{"id": STANDIN_MODEL, "object": "model", "owned_by": "mmrarebench"}],
            }
            await _send_json(send, 200, models)
        elif path == "/_standin/stats":
            await _send_json(send, 200, asdict(self.stats))
        elif path == "/_standin/control":
            await self._control(method, receive, send)
        else:
            await _send_error(send, 404, f"no route for {method} {path}", "not_found_error")

    async def _control(self, method: str, receive: Receive, send: Send) -> None:
        if method == "GET":
            await _send_json(send, 200, {"knobs": asdict(self.knobs)})
            return
        if method != "POST":
            await _send_error(send, 405, "use GET or POST", "invalid_request_error")
            return
        try:
            changes = json.loads(await _read_body(receive))
            if not isinstance(changes, dict):
                raise KnobError("control body must be a JSON object")
            self.configure(changes)
        except (ValueError, TypeError) as exc:
            await _send_error(send, 400, str(exc), "invalid_request_error")
            return
        await _send_json(send, 200, {"knobs": asdict(self.knobs)})

    async def _chat(self, receive: Receive, send: Send) -> None:
        arrived = time.perf_counter()
        self.stats.requests += 1
        body = await _read_body(receive)
        stats = self.stats  # after the await: a control call may have reset the stats meanwhile
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
            await _send_error(
                send,
                429,
                "too many concurrent requests",
                "rate_limit_error",
                headers=[(b"retry-after", _seconds(knobs.retry_after))],
            )
            return 429

        try:
            request = json.loads(body)
            dimensions = _dimensions(request)
            user_text = _user_text(request)
        except ValueError as exc:
            await _send_error(send, 400, str(exc), "invalid_request_error")
            return 400
        if request.get("model") != STANDIN_MODEL:
            message = f"The model {str(request.get('model'))[:100]!r} does not exist"
            await _send_error(send, 404, message, "not_found_error")
            return 404

        outcome = self._next_outcome()
        self.stats.outcomes[outcome] = self.stats.outcomes.get(outcome, 0) + 1
        completion = (
            None if outcome.isdigit() else self._completion(request, dimensions, user_text, outcome)
        )
        if outcome == "timeout":
            if await _wait_for_disconnect(receive, knobs.hang_seconds):
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
        await _send_json(send, 200, completion)
        return 200

    def _completion(
        self, request: dict[str, Any], dimensions: Any, user_text: str, outcome: str
    ) -> dict[str, Any]:
        ratings = rate(dimensions, *_blocks(user_text))
        content: str | None = json.dumps(ratings)
        if outcome == "malformed":
            content = MALFORMED_CONTENT
        elif outcome == "null_content":
            content = None
        elif outcome == "prose":
            content = f"Here is my assessment.\n```json\n{content}\n```\nThat is all."
        self._completions += 1
        return {
            "id": f"chatcmpl-standin-{self._completions}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": STANDIN_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(request, content),
        }

    def _next_outcome(self) -> str:
        if self.knobs.script:
            return self.knobs.script.pop(0)
        knobs = self.knobs
        if not (knobs.error_500_rate or knobs.timeout_rate or knobs.malformed_rate):
            return "ok"
        draw = self._rng.random()  # one draw per request: the fault sequence depends on the seed
        if draw < knobs.error_500_rate:
            return "500"
        if draw < knobs.error_500_rate + knobs.timeout_rate:
            return "timeout"
        if draw < knobs.error_500_rate + knobs.timeout_rate + knobs.malformed_rate:
            return "malformed"
        return "ok"


def rate(
    dimensions: Sequence[tuple[str, int | None]], reference: str, candidate: str
) -> dict[str, str | int]:
    """The stand-in's rating rule (module docstring). `dimensions`: (id, None for binary or the
    ordinal maximum)."""
    reference_tokens = set(answer_tokens(reference))
    if reference_tokens:
        shared = reference_tokens & set(answer_tokens(candidate))
        recall = len(shared) / len(reference_tokens)
    else:
        recall = 0.0
    n = len(dimensions)
    ratings: dict[str, str | int] = {}
    for i, (dim_id, maximum) in enumerate(dimensions):
        threshold = 0.15 + 0.6 * i / max(n - 1, 1)
        if maximum is None:
            ratings[dim_id] = "YES" if recall >= threshold else "NO"
        elif recall >= threshold:
            ratings[dim_id] = maximum
        else:
            ratings[dim_id] = 1 if recall >= threshold / 2 else 0
    return ratings


def _dimensions(request: Any) -> list[tuple[str, int | None]]:
    if not isinstance(request, dict):
        raise ValueError("request body must be a JSON object")
    try:
        properties = request["response_format"]["json_schema"]["schema"]["properties"]
    except (KeyError, TypeError):
        raise ValueError("response_format.json_schema.schema.properties is required") from None
    if not isinstance(properties, dict) or not properties:
        raise ValueError("response_format schema has no properties")
    dims: list[tuple[str, int | None]] = []
    for dim_id, schema in properties.items():
        enum = schema.get("enum") if isinstance(schema, dict) else None
        integers = [v for v in enum if isinstance(v, int)] if isinstance(enum, list) else []
        if isinstance(schema, dict) and schema.get("type") == "integer" and integers:
            dims.append((dim_id, max(integers)))
        elif isinstance(schema, dict) and "enum" in schema:
            dims.append((dim_id, None))
        elif isinstance(schema, dict) and schema.get("type") == "integer":
            maximum = schema.get("maximum", 2)
            dims.append((dim_id, maximum if isinstance(maximum, int) else 2))
        else:
            raise ValueError(f"property {dim_id!r} is neither an enum nor an integer")
    return dims


def _user_text(request: Mapping[str, Any]) -> str:
    messages = request.get("messages")
    if not isinstance(messages, list):
        raise ValueError("messages must be a list")
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "\n".join(
                    str(part.get("text", ""))
                    for part in content
                    if isinstance(part, dict) and part.get("type") == "text"
                )
    raise ValueError("no user message")


def _blocks(user_text: str) -> tuple[str, str]:
    parts: list[str] = []
    for block in _REFERENCE.finditer(user_text):
        body = block.group(2)
        headers = list(_SECTION.finditer(body))
        for index, header in enumerate(headers):
            end = headers[index + 1].start() if index + 1 < len(headers) else len(body)
            if header.group(1) in _RATED_SECTIONS:
                parts.append(body[header.end() : end].strip("\n"))
    reference = "\n".join(parts)
    candidate = _CANDIDATE.search(user_text)
    return reference, candidate.group(2) if candidate else ""


def _usage(request: Mapping[str, Any], content: str | None) -> dict[str, int]:
    # Rough word counts: good enough for a stand-in that bills nobody.
    prompt = sum(
        len(m["content"].split())
        for m in request.get("messages", [])
        if isinstance(m, dict) and isinstance(m.get("content"), str)
    )
    completion = len(content.split()) if content else 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


# --- ASGI plumbing -----------------------------------------------------------------------------


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            raise ValueError("request body too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _wait_for_disconnect(receive: Receive, seconds: float) -> bool:
    """Sleep up to `seconds`; True if the client disconnected first (so a hang ends with it)."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    waiter = asyncio.ensure_future(disconnected())
    try:
        done, _ = await asyncio.wait({waiter}, timeout=seconds)
        return waiter in done
    finally:
        waiter.cancel()


async def _send_json(
    send: Send, status: int, data: Any, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_error(
    send: Send,
    status: int,
    message: str,
    kind: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    error = {"error": {"message": message, "type": kind, "code": status}}
    await _send_json(send, status, error, headers)


def _seconds(value: float) -> bytes:
    return (str(int(value)) if float(value).is_integer() else f"{value:g}").encode()


def _valid_outcome(entry: object) -> bool:
    if not isinstance(entry, str):
        return False
    return entry in _NAMED_OUTCOMES or (entry.isdigit() and 400 <= int(entry) <= 599)


def _require_number(name: str, value: object, *, low: float, high: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KnobError(f"{name} must be a number, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"in [{low:g}, {high:g}]" if high is not None else f"≥ {low:g}"
        raise KnobError(f"{name} must be {bound}, got {value!r}")


# --- running it --------------------------------------------------------------------------------


def add_standin_arguments(parser: argparse.ArgumentParser) -> None:
    """The stand-in's flags, shared by `python -m app.judge.standin` and `mmrare judge-standin`."""
    d = StandinKnobs()
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8090,
        help="TCP port (default %(default)s; 0 picks a free port, named on the ready line)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=d.latency_ms,
        help="time from a chat request's arrival to its reply, in ms (default %(default)s)",
    )
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=d.max_concurrency,
        help="chat requests in flight beyond this get HTTP 429 (default %(default)s = unlimited)",
    )
    parser.add_argument(
        "--retry-after",
        type=float,
        default=d.retry_after,
        help="Retry-After seconds sent with every 429 (default %(default)s)",
    )
    parser.add_argument(
        "--error-500-rate",
        type=float,
        default=d.error_500_rate,
        help="fraction of chat requests answered with HTTP 500 (default %(default)s)",
    )
    parser.add_argument(
        "--timeout-rate",
        type=float,
        default=d.timeout_rate,
        help="fraction of chat requests that hang for --hang-seconds (default %(default)s)",
    )
    parser.add_argument(
        "--malformed-rate",
        type=float,
        default=d.malformed_rate,
        help="fraction of chat replies whose content is not JSON (default %(default)s)",
    )
    parser.add_argument(
        "--hang-seconds",
        type=float,
        default=d.hang_seconds,
        help="how long a timeout fault hangs before replying (default %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=d.seed,
        help="seed of the fault generator, so faults repeat run to run (default %(default)s)",
    )
    parser.add_argument(
        "--script",
        default="",
        help="comma-separated outcomes forced one per chat request before random faults: ok, "
        "malformed, timeout, null_content, prose or an HTTP status (e.g. 500,429,ok)",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level (default %(default)s)",
    )


def standin_from_args(ns: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for `run_standin` from parsed flags.

    Usage: `run_standin(**standin_from_args(ns))`.
    """
    return {
        "host": ns.host,
        "port": ns.port,
        "log_level": ns.log_level,
        "latency_ms": ns.latency_ms,
        "max_concurrency": ns.max_concurrency,
        "retry_after": ns.retry_after,
        "error_500_rate": ns.error_500_rate,
        "timeout_rate": ns.timeout_rate,
        "malformed_rate": ns.malformed_rate,
        "hang_seconds": ns.hang_seconds,
        "seed": ns.seed,
        "script": [s.strip() for s in ns.script.split(",") if s.strip()],
    }


def run_standin(
    host: str = "127.0.0.1", port: int = 8090, *, log_level: str = "warning", **knobs: Any
) -> None:
    """Serve the stand-in in the foreground until interrupted.

    Prints one line `mmrare stand-in judge ready on http://HOST:PORT/v1` to stdout once the port is
    bound (with port 0, this is how a parent process learns the port).
    """
    import uvicorn  # the server only: importing this module must stay cheap

    app = StandinJudge(**knobs)
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on")
    print(f"mmrare stand-in judge ready on http://{host}:{bound_port}/v1", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # connections made before uvicorn starts accepting wait in the backlog
    sock.set_inheritable(True)
    return sock


class StandinThread:
    """The stand-in served by uvicorn in a background thread of this process (for tests).

    `with StandinThread(latency_ms=50) as judge: judge.base_url …`; `judge.app` is the live
    StandinJudge.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **knobs: Any) -> None:
        self.app = StandinJudge(**knobs)
        self.host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/v1"

    def start(self, timeout: float = 10.0) -> Self:
        import uvicorn

        sock = _bind(self.host, self._port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="standin", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("stand-in judge thread exited during startup")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"stand-in judge not ready within {timeout} s")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class StandinProcess:
    """The stand-in as a separate `python -m app.judge.standin` process (for benchmarks).

    Readiness comes from the child's ready line on stdout, read with a deadline.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **knobs: Any) -> None:
        StandinJudge(**knobs)  # validate the knobs here, not in the child
        self.host = host
        self._port = port
        self._knobs = knobs
        self._process: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    @property
    def root_url(self) -> str:
        return self.base_url.removesuffix("/v1")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 20.0) -> Self:
        argv = [
            sys.executable,
            "-m",
            "app.judge.standin",
            "--host",
            self.host,
            "--port",
            str(self._port),
        ]
        for name, value in self._knobs.items():
            flag = "--" + name.replace("_", "-")
            argv += [flag, ",".join(value) if name == "script" else str(value)]
        root = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
        }
        self._process = subprocess.Popen(argv, stdout=subprocess.PIPE, env=env, cwd=root)
        assert self._process.stdout is not None
        deadline = time.monotonic() + timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._process.poll() is not None:
                    self.stop()
                    raise RuntimeError("stand-in judge process did not report ready")
                if selector.select(remaining):
                    chunk = os.read(self._process.stdout.fileno(), 4096)
                    if not chunk:
                        continue
                    buffer += chunk
        match = re.search(rb"ready on (\S+)", buffer)
        if match is None:
            self.stop()
            raise RuntimeError("stand-in judge printed an unexpected ready line")
        self.base_url = match.group(1).decode()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m app.judge.standin",
        description="Deterministic OpenAI-compatible reference judge for MMRareBench "
        f"(model {STANDIN_MODEL}). Rates each rubric dimension from the lexical recall of the "
        "reference tokens in the candidate answer; faults and latency are configurable.",
    )
    add_standin_arguments(parser)
    ns = parser.parse_args(argv)
    try:
        options = standin_from_args(ns)
        StandinJudge(**{k: v for k, v in options.items() if k not in ("host", "port", "log_level")})
    except KnobError as exc:
        parser.error(str(exc))
    run_standin(**options)


if __name__ == "__main__":
    main()
