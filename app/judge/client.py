"""The only code that talks to the judge: an OpenAI-compatible `POST {base_url}/chat/completions`.

One `JudgeClient` wraps one long-lived httpx transport and one semaphore, so the concurrency
bound holds for every call made through it: a process should build exactly one client (in the
FastAPI lifespan or the worker's startup) and share it. Inside that bound each HTTP request also
holds a permit of the client's `limiter` (app/judge/limit.py): the deployment-wide bound shared
through Redis, when JUDGE_GLOBAL_CONCURRENCY is set.

Failure handling, per HTTP attempt:

* connection errors, timeouts, 429 and 5xx are transient: retried up to `max_transport_retries`
  times with exponential backoff and full jitter (a 429's `Retry-After` — seconds or an HTTP
  date — replaces the backoff), then `JudgeUnavailable`;
* 401, 403, 404, 405 and 407 say the judge is misconfigured (key, model name, URL) and would
  answer every item the same way: `JudgeConfigError` at once, carrying the server's message
  (redacted of anything copied from our prompt, truncated) and never the request body, which
  holds hidden gold answers; the run fails as a service failure;
* any other 4xx (400, 413, 422, …) is about this one request — typically a prompt longer than
  the judge's context window: the item's outcome is a judge error with the status and a fixed
  reason (never the server's words, which may echo gold), and the run's error tolerance decides;
* a 2xx whose content does not parse (see app.judge.reply) is re-asked up to `max_parse_retries`
  times (each re-ask with its own transport-retry budget), then returned as a judge error outcome
  with the raw reply kept — never as a score.

`JudgeOutcome.attempts` counts HTTP requests; `latency_ms` runs from the first request getting a
concurrency slot to the final reply (retries and backoff included, queueing for that first slot
excluded). `JudgeClient.health` (app.judge.health) records every attempt for the judge's health
on /admin. `JudgeClient.counters` (a CacheCounters) counts for the whole client: `judge_calls`
(HTTP requests sent), `hits`/`misses` (judge_many's cache look-ups) and, in `extra`,
`retry_timeout`, `retry_connection`, `retry_429`, `retry_5xx`, `retry_malformed`,
`malformed_final`, `gave_up`, `config_errors` and `item_rejections`.
"""

import asyncio
import collections
import contextlib
import email.utils
import itertools
import json
import logging
import math
import random as random_module
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, cast

import httpx

from app.judge.errors import (
    JudgeConfigError,
    JudgeItemRejected,
    JudgeUnavailable,
    error_kind,
)
from app.judge.health import JudgeHealth
from app.judge.limit import Limiter, Unlimited
from app.judge.prompt import cache_key, normalise_base_url
from app.judge.reply import MalformedReply, parse_reply
from app.judge.types import CacheCounters, JudgeCache, JudgeOutcome, JudgeRequest, Verdict
from app.observability import metrics
from app.rubrics.model import Rubric

log = logging.getLogger(__name__)

USER_AGENT = "mmrarebench-leaderboard"
SERVER_MESSAGE_LIMIT = 500
RAW_REPLY_LIMIT = 20_000  # what we keep of a malformed reply for maintainers
_REDACT_WINDOW = 24  # a server message sharing this many characters with our prompt is redacted
_CACHE_BATCH = 500  # keys per get_many call: keeps SQL IN lists reasonable
# 4xx answers that mean the judge itself is misconfigured (key, model, URL), not this request.
RUN_LEVEL_4XX = frozenset({401, 403, 404, 405, 407})


@dataclass(frozen=True)
class _HttpReply:
    body: bytes
    attempts: int
    first_sent: float  # perf_counter when this call's first attempt got a concurrency slot


class JudgeClient:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        concurrency: int = 8,
        timeout: float = 120.0,
        max_transport_retries: int = 5,
        max_parse_retries: int = 2,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        retry_after_cap: float = 120.0,
        cache_put_batch: int = 64,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: Limiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = random_module.random,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be ≥ 1")
        if max_transport_retries < 0 or max_parse_retries < 0:
            raise ValueError("retry bounds must be ≥ 0")
        self.base_url = normalise_base_url(base_url)
        self.concurrency = concurrency
        self.max_transport_retries = max_transport_retries
        self.max_parse_retries = max_parse_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self.cache_put_batch = max(1, cache_put_batch)
        # Requests rendered and looked up in the cache per step: a step is short (a few ms), so
        # the calls in flight are never held up behind it.
        self._feed_chunk = min(max(2 * concurrency, 64), _CACHE_BATCH)
        self.counters = CacheCounters()
        self.health = JudgeHealth()  # every HTTP attempt, for the maintainers' /admin
        self._url = httpx.URL(f"{self.base_url}/chat/completions")  # parsed once, not per call
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            # Some gateways in front of hosted judges refuse requests that name no client.
            "User-Agent": USER_AGENT,
        }
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._semaphore = asyncio.Semaphore(concurrency)
        self.limiter: Limiter = limiter or Unlimited()  # the deployment's bound, inside ours
        self._sleep = sleep
        self._random = random
        # Requests go straight to the transport: httpx's client layers (cookies, auth and
        # redirect flows, default headers) cost a sixth of the client's CPU per call and do
        # nothing for one POST to one URL. Environment proxies are not used either: a judge
        # request carries hidden gold answers and goes to JUDGE_BASE_URL and nowhere else.
        self._timeout = httpx.Timeout(timeout).as_dict()
        self._owns_transport = transport is None
        self._transport = transport or _SlotTransport(concurrency)

    async def aclose(self) -> None:
        """Close the HTTP transport if this object created it; a passed-in one is the caller's
        (as is the limiter)."""
        if self._owns_transport:
            await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def judge(self, request: JudgeRequest, rubric: Rubric) -> JudgeOutcome:
        """Judge one request. Raises JudgeUnavailable / JudgeConfigError; a reply that never
        parses comes back as an outcome with `error` set and the raw reply kept."""
        outcome = await self._judge(request, rubric)
        if outcome.latency_ms:
            metrics.JUDGE_LATENCY.observe(outcome.latency_ms / 1000)
        _count_item(outcome)
        return outcome

    async def _judge(self, request: JudgeRequest, rubric: Rubric) -> JudgeOutcome:
        payload = json.dumps(request.body(), ensure_ascii=False, separators=(",", ":")).encode()
        started: float | None = None  # latency excludes queueing for the first slot
        attempts = 0
        parse_failures = 0
        while True:
            try:
                reply = await self._post(payload, request, attempts)
            except JudgeItemRejected as exc:
                return JudgeOutcome(
                    item_id=request.item_id,
                    verdict=None,
                    error=exc.reason,
                    attempts=exc.attempts,
                    latency_ms=0.0 if started is None else (time.perf_counter() - started) * 1000,
                    truncated=request.truncated,
                )
            attempts = reply.attempts
            started = reply.first_sent if started is None else started
            raw: str | None = None
            try:
                raw = _reply_content(reply.body)
                ratings = parse_reply(raw, rubric)
            except MalformedReply as exc:
                if raw is None:  # not even a chat.completion: keep the body itself
                    raw = reply.body.decode("utf-8", errors="replace")
                if parse_failures < self.max_parse_retries:
                    parse_failures += 1
                    self._count("retry_malformed")
                    continue
                self._count("malformed_final")
                return JudgeOutcome(
                    item_id=request.item_id,
                    verdict=None,
                    error=f"malformed judge reply: {exc}",
                    raw_reply=raw[:RAW_REPLY_LIMIT],
                    attempts=attempts,
                    latency_ms=(time.perf_counter() - started) * 1000,
                    truncated=request.truncated,
                )
            return JudgeOutcome(
                item_id=request.item_id,
                verdict=Verdict(ratings=ratings, raw_reply=raw),
                raw_reply=raw,
                attempts=attempts,
                latency_ms=(time.perf_counter() - started) * 1000,
                truncated=request.truncated,
            )

    async def judge_many(
        self,
        requests: Iterable[JudgeRequest],
        rubric: Rubric,
        cache: JudgeCache | None = None,
        base_url: str | None = None,
        limit: Limiter | None = None,
    ) -> AsyncGenerator[JudgeOutcome, None]:
        """Yield one outcome per request: cached ones as they are looked up, the rest as they
        complete.

        `requests` is read a short chunk at a time, and each chunk's misses go to the judge
        before the next chunk is read, so the first calls start while later requests are still
        being rendered and looked up (the event loop runs between chunks); every slot is fed as
        soon as it frees. `base_url` (default: this client's) goes into the cache key.
        Successful verdicts are written to the cache in batches; judge errors never are. Close
        the iterator (`contextlib.aclosing`) if you stop early, so in-flight work is cancelled
        promptly. `limit`, when given, is taken around each request on top of the client's own
        bound (the rejudge share: rejudge runs may use only part of the judge).
        """
        endpoint = base_url if base_url is not None else self.base_url
        work: asyncio.Queue[tuple[str | None, JudgeRequest] | None] = asyncio.Queue()
        done: asyncio.Queue[tuple[str | None, JudgeOutcome] | BaseException] = asyncio.Queue()

        async def worker() -> None:
            # Twice as many workers as slots keeps every slot busy while some workers back off;
            # the semaphore inside judge() is the real bound.
            while (job := await work.get()) is not None:
                key, request = job
                try:
                    if limit is None:
                        outcome = await self.judge(request, rubric)
                    else:
                        async with limit.slot():
                            outcome = await self.judge(request, rubric)
                except Exception as exc:
                    done.put_nowait(exc)
                    return
                done.put_nowait((key, outcome))

        workers: list[asyncio.Task[None]] = []
        waiting = 0  # requests handed to the workers whose outcome is not yielded yet
        to_store: dict[str, Verdict] = {}

        async def settled(item: tuple[str | None, JudgeOutcome] | BaseException) -> JudgeOutcome:
            nonlocal to_store
            if isinstance(item, BaseException):
                raise item
            key, outcome = item
            if cache is not None and key is not None and outcome.verdict is not None:
                to_store[key] = outcome.verdict
                if len(to_store) >= self.cache_put_batch:
                    batch, to_store = to_store, {}
                    await cache.put_many(batch)
            return outcome

        try:
            for chunk in _chunks(requests, first=2 * self.concurrency, size=self._feed_chunk):
                hits: dict[str, Verdict] = {}
                keys: list[str | None] = [None] * len(chunk)
                if cache is not None:
                    keys = [cache_key(request, endpoint) for request in chunk]
                    hits = await cache.get_many(list(dict.fromkeys(cast(list[str], keys))))
                for key, request in zip(keys, chunk, strict=True):
                    verdict = hits.get(key) if key is not None else None
                    if verdict is None:
                        if cache is not None:
                            self.counters.misses += 1
                            _VERDICT_CACHE_MISS.inc()
                        work.put_nowait((key, request))
                        waiting += 1
                        continue
                    self.counters.hits += 1
                    _VERDICT_CACHE_HIT.inc()
                    cached = JudgeOutcome(
                        item_id=request.item_id,
                        verdict=verdict,
                        raw_reply=verdict.raw_reply,
                        cached=True,
                        truncated=request.truncated,
                    )
                    _count_item(cached)
                    yield cached
                if waiting and not workers:
                    workers = [asyncio.create_task(worker()) for _ in range(2 * self.concurrency)]
                # Let the calls go out, and replies be read, before the next chunk is rendered.
                await asyncio.sleep(0)
                while not done.empty():  # outcomes that arrived meanwhile
                    waiting -= 1
                    yield await settled(done.get_nowait())
            for _ in workers:
                work.put_nowait(None)
            while waiting:
                waiting -= 1
                yield await settled(await done.get())
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if cache is not None and to_store:
                # Verdicts already paid for are worth keeping even when judging stopped early.
                try:
                    await cache.put_many(to_store)
                except Exception as exc:
                    log.warning("judge cache write failed: %s", type(exc).__name__)

    async def _post(self, payload: bytes, request: JudgeRequest, attempts: int) -> _HttpReply:
        failures = 0
        first_sent: float | None = None
        while True:
            retry_after: float | None = None
            async with self._semaphore, self.limiter.slot():
                if first_sent is None:
                    first_sent = time.perf_counter()
                attempts += 1
                self.counters.judge_calls += 1
                try:
                    response = await self._send(payload)
                except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                    self.health.record_error("unusable URL")
                    raise JudgeConfigError(
                        f"judge base URL is unusable: {type(exc).__name__}",
                        status_code=0,
                        server_message="",
                    ) from None
                except httpx.TimeoutException as exc:
                    kind, last_error = "timeout", f"timeout ({type(exc).__name__})"
                except httpx.RequestError as exc:
                    kind = "connection"
                    last_error = f"connection error ({type(exc).__name__}: {str(exc)[:200]})"
                else:
                    status = response.status_code
                    if status < 300:
                        self.health.record_success()
                        return _HttpReply(response.content, attempts, first_sent)
                    if status == 429:
                        kind, last_error = "429", "HTTP 429"
                        retry_after = parse_retry_after(response.headers.get("retry-after"))
                    elif status >= 500:
                        kind, last_error = "5xx", f"HTTP {status}"
                    elif status not in RUN_LEVEL_4XX:
                        self.health.record_rejection()
                        self._count("item_rejections")
                        raise JudgeItemRejected(status, attempts=attempts)
                    else:
                        self.health.record_error(f"HTTP {status}")
                        self._count("config_errors")
                        message = _server_message(response, request)
                        raise JudgeConfigError(
                            f"judge rejected the request: HTTP {status}: {message}",
                            status_code=status,
                            server_message=message,
                        )
            self.health.record_error(error_kind(last_error))
            if failures >= self.max_transport_retries:
                self._count("gave_up")
                raise JudgeUnavailable(
                    f"judge at {self.base_url} unavailable after {attempts} attempt(s): "
                    f"last error: {last_error}",
                    attempts=attempts,
                    last_error=last_error,
                )
            failures += 1
            self._count(f"retry_{kind}")
            await self._sleep(self._delay(failures, retry_after))

    async def _send(self, payload: bytes) -> httpx.Response:
        """One POST, its body read and the connection handed back before returning."""
        request = httpx.Request(
            "POST",
            self._url,
            content=payload,
            headers=self._headers,
            extensions={"timeout": self._timeout},
        )
        response = await self._transport.handle_async_request(request)
        response.request = request  # as httpx's client sets it: response.url and friends work
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    def _delay(self, failures: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry_after_cap)
        # Full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^(n-1))].
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1))
        return self._random() * ceiling

    def _count(self, name: str) -> None:
        self.counters.extra[name] = self.counters.extra.get(name, 0) + 1
        metrics.JUDGE_ERRORS.labels(kind=name).inc()


# Bound once: a label look-up per judged item is work on the hot path.
_VERDICT_CACHE_HIT = metrics.CACHE_LOOKUPS.labels(cache="verdict", result="hit")
_VERDICT_CACHE_MISS = metrics.CACHE_LOOKUPS.labels(cache="verdict", result="miss")
_ITEMS = {
    (verdict, cached): metrics.ITEMS_JUDGED.labels(
        outcome="verdict" if verdict else "judge_error", cached="true" if cached else "false"
    )
    for verdict in (True, False)
    for cached in (True, False)
}


def _count_item(outcome: JudgeOutcome) -> None:
    _ITEMS[outcome.verdict is not None, outcome.cached].inc()


class _SlotTransport(httpx.AsyncBaseTransport):
    """One single-connection httpcore pool per concurrency slot, handed out from a free list.

    Why: httpcore's pool re-examines every pooled connection (an O(n) scan and a poll() syscall
    per idle connection) each time a request starts or ends (encode/httpx#3215). At 32
    connections that cost more CPU than the rest of a judge call; with one connection per pool the
    scan is O(1). The semaphore above keeps requests ≤ slots, so a slot is normally free at once.
    """

    def __init__(self, slots: int) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        tls = httpx.create_ssl_context()  # loading the CA bundle costs ~20 ms: once, not per slot
        self._transports = [
            httpx.AsyncHTTPTransport(verify=tls, limits=limits) for _ in range(slots)
        ]
        self._free = list(range(slots))
        self._waiters: collections.deque[asyncio.Future[int]] = collections.deque()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        slot = await self._acquire()
        metrics.JUDGE_PERMITS_IN_USE.inc()

        def release() -> None:
            metrics.JUDGE_PERMITS_IN_USE.dec()
            self._release(slot)

        try:
            response = await self._transports[slot].handle_async_request(request)
        except BaseException:
            release()
            raise
        # Swap the body stream in place: building a second Response would re-parse the headers.
        response.stream = _ReleasingStream(response.stream, release)
        return response

    async def aclose(self) -> None:
        for transport in self._transports:
            await transport.aclose()

    async def _acquire(self) -> int:
        if self._free:
            return self._free.pop()  # LIFO: reuse the warmest connection
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())  # handed a slot just as we were cancelled
            raise

    def _release(self, slot: int) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(slot)
                return
        self._free.append(slot)


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that gives its slot back when httpx closes it (after reading it)."""

    def __init__(self, inner: httpx.AsyncByteStream | Any, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._release is not None:
                release, self._release = self._release, None
                release()


class InMemoryJudgeCache:
    """A process-local JudgeCache for tests and benchmarks (the service's cache lives in the DB)."""

    def __init__(self) -> None:
        self.entries: dict[str, Verdict] = {}
        self.get_calls = 0
        self.put_calls = 0

    async def get_many(self, keys: Sequence[str]) -> dict[str, Verdict]:
        self.get_calls += 1
        return {key: self.entries[key] for key in keys if key in self.entries}

    async def put_many(self, entries: Mapping[str, Verdict]) -> None:
        self.put_calls += 1
        self.entries.update(entries)


def _chunks(
    items: Iterable[JudgeRequest], *, first: int, size: int
) -> Iterator[list[JudgeRequest]]:
    """`items` in lists: `first` of them, then `size` at a time."""
    iterator = iter(items)
    chunk = list(itertools.islice(iterator, first))
    while chunk:
        yield chunk
        chunk = list(itertools.islice(iterator, size))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or an HTTP-date), or None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _reply_content(body: bytes) -> str:
    """choices[0].message.content of a chat.completion body, or MalformedReply."""
    try:
        data = json.loads(body)
    except ValueError:
        raise MalformedReply("response body is not JSON") from None
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise MalformedReply("response has no choices[0].message.content") from None
    if isinstance(content, list):  # some servers return content parts
        content = (
            "".join(part.get("text", "") for part in content if isinstance(part, dict)) or None
        )
    if content is None:
        raise MalformedReply("message content is null")
    if not isinstance(content, str):
        raise MalformedReply(f"message content is {type(content).__name__}, not text")
    return content


def _server_message(response: httpx.Response, request: JudgeRequest) -> str:
    """The error text a 4xx carried, minus anything copied from our prompt, at most 500 chars."""
    message = ""
    with contextlib.suppress(ValueError):
        data = response.json()
        message = _message_from_json(data)
    if not message:
        message = response.text
    message = " ".join(message.split())[: SERVER_MESSAGE_LIMIT * 4]
    message = _redact(message, _prompt_text(request))
    if len(message) > SERVER_MESSAGE_LIMIT:
        message = message[: SERVER_MESSAGE_LIMIT - 1] + "…"
    return message or "(no message)"


def _message_from_json(data: Any) -> str:
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if isinstance(data.get("message"), str):
            return str(data["message"])
        detail = data.get("detail")
        if isinstance(detail, str):
            return detail
        if isinstance(detail, list):
            # FastAPI-style validation errors echo the offending "input": keep loc and msg only.
            parts = [
                f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg', '')}"
                for d in detail
                if isinstance(d, dict)
            ]
            return "; ".join(parts)
    return ""


def _prompt_text(request: JudgeRequest) -> str:
    parts: list[str] = []
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p["text"] for p in content if isinstance(p, dict) and "text" in p)
    return "\n".join(parts)


def _redact(message: str, prompt: str) -> str:
    """Replace every stretch of `message` that also occurs in the prompt with [redacted]."""
    if len(message) < _REDACT_WINDOW or not prompt:
        return message
    prompt = " ".join(prompt.split())  # the message was whitespace-collapsed the same way
    hidden = [False] * len(message)
    for start in range(len(message) - _REDACT_WINDOW + 1):
        if message[start : start + _REDACT_WINDOW] in prompt:
            for i in range(start, start + _REDACT_WINDOW):
                hidden[i] = True
    if not any(hidden):
        return message
    out: list[str] = []
    for i, char in enumerate(message):
        if not hidden[i]:
            out.append(char)
        elif i == 0 or not hidden[i - 1]:
            out.append("[redacted]")
    return "".join(out)
