"""The judge client against the stand-in judge over real HTTP on loopback.

The stand-in runs under uvicorn in a background thread; its `script` knob forces exact fault
sequences and its stats endpoint counts what actually reached it.
"""

import asyncio
import dataclasses
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import pytest

from app.judge import STANDIN_MODEL
from app.judge.client import InMemoryJudgeCache, JudgeClient, parse_retry_after
from app.judge.errors import JudgeConfigError, JudgeUnavailable
from app.judge.prompt import render_request, response_format
from app.judge.types import JudgeInput, JudgeOutcome, JudgeRequest
from app.rubrics.loader import bundled_rubric
from app.standin.knobs import StandinKnobs
from app.standin.protocol import MALFORMED_CONTENT
from app.standin.rating import rate
from app.tracks import Track
from tests.support import StandinThread, wait_for

pytestmark = pytest.mark.integration

GOLD = "Embryonal rhabdomyosarcoma of the temporal bone"
T1 = bundled_rubric(Track.T1)
T4 = bundled_rubric(Track.T4)


class Sleeps:
    """Stands in for asyncio.sleep: records the backoff the client chose, returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture(scope="module")
def standin() -> Iterator[StandinThread]:
    with StandinThread() as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_standin(standin: StandinThread) -> None:
    control(standin, {**dataclasses.asdict(StandinKnobs()), "reset_stats": True})


def control(standin: StandinThread, changes: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{standin.root_url}/_standin/control", json=changes)
    response.raise_for_status()
    knobs: dict[str, Any] = response.json()["knobs"]
    return knobs


def stats(standin: StandinThread) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{standin.root_url}/_standin/stats").json()
    return data


def client(standin: StandinThread, sleeps: Sleeps | None = None, **options: Any) -> JudgeClient:
    settings: dict[str, Any] = {
        "concurrency": 4,
        "timeout": 5.0,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
        "random": lambda: 1.0,  # take the top of the jitter range: delays are predictable
        "sleep": sleeps or Sleeps(),
    }
    settings.update(options)
    return JudgeClient(standin.base_url, **settings)


def t1_request(
    n: int = 0, answer: str = "Embryonal rhabdomyosarcoma, temporal bone"
) -> JudgeRequest:
    item = JudgeInput(
        item_id=f"T1-{n:04d}",
        track=Track.T1,
        question="What is the final diagnosis?",
        reference_answer=GOLD,
        candidate=f"{answer} (case {n})",
    )
    return render_request(
        T1,
        item,
        model=STANDIN_MODEL,
        secret=b"test-secret",
        max_answer_chars=2000,
        seed=7,
        max_tokens=256,
    )


async def test_models_are_listed(standin: StandinThread) -> None:
    async with httpx.AsyncClient() as http:
        for path in ("/v1/models", "/models"):
            data = (await http.get(standin.root_url + path)).json()
            assert [m["id"] for m in data["data"]] == [STANDIN_MODEL]


async def test_a_clean_call_returns_a_verdict(standin: StandinThread) -> None:
    async with client(standin) as judge:
        outcome = await judge.judge(t1_request(), T1)
    assert outcome.verdict is not None
    assert set(outcome.verdict.ratings) == set(T1.dimension_ids)
    assert outcome.raw_reply == outcome.verdict.raw_reply
    assert (outcome.attempts, outcome.error, outcome.cached) == (1, None, False)
    assert outcome.latency_ms > 0
    assert stats(standin)["status_counts"] == {"200": 1}


async def test_500_is_retried(standin: StandinThread) -> None:
    control(standin, {"script": ["500", "503", "ok"]})
    sleeps = Sleeps()
    async with client(standin, sleeps) as judge:
        outcome = await judge.judge(t1_request(), T1)
        assert judge.counters.extra["retry_5xx"] == 2
        assert judge.counters.judge_calls == 3
    assert outcome.verdict is not None and outcome.attempts == 3
    assert sleeps.delays == [0.01, 0.02]  # exponential: base, 2·base (jitter pinned to 1.0)
    assert stats(standin)["status_counts"] == {"500": 1, "503": 1, "200": 1}


async def test_429_honours_retry_after(standin: StandinThread) -> None:
    control(standin, {"script": ["429", "429", "ok"], "retry_after": 2.5})
    sleeps = Sleeps()
    async with client(standin, sleeps) as judge:
        outcome = await judge.judge(t1_request(), T1)
        assert judge.counters.extra["retry_429"] == 2
    assert outcome.verdict is not None and outcome.attempts == 3
    assert sleeps.delays == [2.5, 2.5]


async def test_retry_after_is_capped(standin: StandinThread) -> None:
    control(standin, {"script": ["429", "ok"], "retry_after": 3600})
    sleeps = Sleeps()
    async with client(standin, sleeps, retry_after_cap=30.0) as judge:
        assert (await judge.judge(t1_request(), T1)).verdict is not None
    assert sleeps.delays == [30.0]


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0.5 ") == 0.5
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    delay = parse_retry_after(soon)
    assert delay is not None and 3.0 <= delay <= 5.0
    past = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(past) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None


async def test_a_hung_request_times_out_and_is_retried(standin: StandinThread) -> None:
    control(standin, {"script": ["timeout", "ok"]})  # hangs 30 s unless the client leaves
    # 1 s: room for the "ok" reply on a loaded machine, still well short of the hang.
    async with client(standin, timeout=1.0) as judge:
        outcome = await judge.judge(t1_request(), T1)
        assert judge.counters.extra["retry_timeout"] == 1
    assert outcome.verdict is not None and outcome.attempts == 2
    assert stats(standin)["outcomes"] == {"timeout": 1, "ok": 1}


async def test_a_refused_connection_is_retried_then_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now.
    judge = JudgeClient(
        f"http://127.0.0.1:{port}/v1", max_transport_retries=2, sleep=Sleeps(), timeout=2.0
    )
    async with judge:
        with pytest.raises(JudgeUnavailable, match="connection error") as caught:
            await judge.judge(t1_request(), T1)
    assert caught.value.attempts == 3
    assert judge.counters.extra["retry_connection"] == 2


async def test_malformed_reply_is_re_requested(standin: StandinThread) -> None:
    control(standin, {"script": ["malformed", "null_content", "ok"]})
    async with client(standin) as judge:
        outcome = await judge.judge(t1_request(), T1)
        assert judge.counters.extra["retry_malformed"] == 2
    assert outcome.verdict is not None and outcome.attempts == 3


async def test_prose_wrapped_reply_is_accepted(standin: StandinThread) -> None:
    control(standin, {"script": ["prose"]})
    async with client(standin) as judge:
        outcome = await judge.judge(t1_request(), T1)
    assert outcome.verdict is not None and outcome.attempts == 1
    assert outcome.raw_reply is not None and outcome.raw_reply.startswith("Here is my assessment")


async def test_transient_failures_give_up_after_the_bound(standin: StandinThread) -> None:
    control(standin, {"script": ["500", "502", "429", "500"]})
    sleeps = Sleeps()
    async with client(standin, sleeps, max_transport_retries=3) as judge:
        with pytest.raises(JudgeUnavailable) as caught:
            await judge.judge(t1_request(), T1)
        assert judge.counters.extra["gave_up"] == 1
    assert caught.value.attempts == 4
    assert caught.value.last_error == "HTTP 500"
    assert "after 4 attempt(s)" in str(caught.value)
    assert GOLD not in str(caught.value)
    assert len(sleeps.delays) == 3
    assert stats(standin)["requests"] == 4


async def test_malformed_beyond_the_bound_is_a_judge_error_not_a_score(
    standin: StandinThread,
) -> None:
    control(standin, {"script": ["malformed"] * 3})
    async with client(standin, max_parse_retries=2) as judge:
        outcome = await judge.judge(t1_request(), T1)
        assert judge.counters.extra["malformed_final"] == 1
    assert outcome.verdict is None
    assert outcome.error == "malformed judge reply: no JSON object in the reply"
    assert outcome.raw_reply == MALFORMED_CONTENT
    assert outcome.attempts == 3


async def test_null_content_is_reported_as_malformed(standin: StandinThread) -> None:
    control(standin, {"script": ["null_content"]})
    async with client(standin, max_parse_retries=0) as judge:
        outcome = await judge.judge(t1_request(), T1)
    assert outcome.error == "malformed judge reply: message content is null"
    assert outcome.raw_reply is not None and '"content": null' in outcome.raw_reply


async def test_an_auth_error_fails_fast_with_the_server_message(standin: StandinThread) -> None:
    control(standin, {"script": ["401"]})
    sleeps = Sleeps()
    async with client(standin, sleeps) as judge:
        with pytest.raises(JudgeConfigError) as caught:
            await judge.judge(t1_request(), T1)
    assert caught.value.status_code == 401
    assert caught.value.server_message == "scripted HTTP 401"
    assert str(caught.value) == "judge rejected the request: HTTP 401: scripted HTTP 401"
    assert sleeps.delays == []
    assert stats(standin)["requests"] == 1


@pytest.mark.parametrize("status", ["400", "413", "422"])
async def test_a_rejected_request_is_that_items_judge_error(
    standin: StandinThread, status: str
) -> None:
    control(standin, {"script": [status]})
    sleeps = Sleeps()
    async with client(standin, sleeps) as judge:
        rejected = await judge.judge(t1_request(), T1)
        after = await judge.judge(t1_request(), T1)  # the next item is judged as usual
    assert rejected.verdict is None and rejected.raw_reply is None
    assert rejected.error is not None and rejected.error.endswith(f"(HTTP {status})")
    assert "scripted" not in rejected.error  # a fixed reason, never the server's words
    assert rejected.attempts == 1 and sleeps.delays == []
    assert after.verdict is not None
    assert judge.counters.extra["item_rejections"] == 1


async def test_unknown_model_and_unknown_path_fail_fast(standin: StandinThread) -> None:
    wrong_model = dataclasses.replace(t1_request(), model="gpt-nonexistent")
    async with client(standin) as judge:
        with pytest.raises(JudgeConfigError, match="HTTP 404: The model 'gpt-nonexistent'"):
            await judge.judge(wrong_model, T1)
    async with JudgeClient(standin.root_url + "/nowhere", sleep=Sleeps()) as judge:
        with pytest.raises(JudgeConfigError, match="HTTP 404: no route for POST") as caught:
            await judge.judge(t1_request(), T1)
    assert GOLD not in str(caught.value)


async def test_server_messages_never_echo_the_prompt() -> None:
    request = t1_request()
    user = request.messages[1]["content"]

    def echo(req: httpx.Request) -> httpx.Response:
        if req.url.path.startswith("/a"):
            detail = [{"loc": ["body", "messages", 1], "msg": "too long", "input": user}]
            return httpx.Response(403, json={"detail": detail})
        return httpx.Response(401, text=f"Bad prompt: {user} (rejected)")

    transport = httpx.MockTransport(echo)
    async with transport:
        for base, expected in (("http://x/a", "body.messages.1: too long"), ("http://x/b", "")):
            judge = JudgeClient(base, transport=transport, sleep=Sleeps())
            with pytest.raises(JudgeConfigError) as caught:
                await judge.judge(request, T1)
            message = str(caught.value)
            assert GOLD not in message and "temporal" not in message
            assert expected in message
            assert len(caught.value.server_message) <= 500
        assert "[redacted]" in caught.value.server_message


async def test_concurrency_bound_is_never_exceeded(standin: StandinThread) -> None:
    control(standin, {"latency_ms": 50, "max_concurrency": 4})  # a 5th request would get 429
    requests = [t1_request(n) for n in range(40)]
    async with client(standin, concurrency=4) as judge:
        outcomes = [o async for o in judge.judge_many(requests, T1)]
    assert sorted(o.item_id for o in outcomes) == sorted(r.item_id for r in requests)
    assert all(o.verdict is not None for o in outcomes)
    counted = stats(standin)
    assert counted["max_in_flight"] == 4
    assert counted["rejected_429"] == 0
    assert counted["requests"] == 40


async def test_first_calls_go_out_before_the_rest_is_read(standin: StandinThread) -> None:
    """A run's later requests are rendered while its first calls are in flight, not before."""
    calls_started_when_read: list[int] = []

    def requests(judge: JudgeClient) -> Iterator[JudgeRequest]:
        for n in range(300):
            calls_started_when_read.append(judge.counters.judge_calls)
            yield t1_request(n)

    async with client(standin, concurrency=4) as judge:
        outcomes = [o async for o in judge.judge_many(requests(judge), T1)]
    assert len(outcomes) == 300
    first_chunk = 2 * judge.concurrency
    assert calls_started_when_read[:first_chunk] == [0] * first_chunk
    assert calls_started_when_read[first_chunk] == judge.concurrency  # every slot already busy


async def test_environment_proxies_are_not_used(
    standin: StandinThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Judge requests carry hidden gold answers: they go to the judge's URL, never via a proxy
    some other tool's environment set."""
    with monkeypatch.context() as env:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            env.setenv(name, "http://127.0.0.1:9")  # nothing listens there
        env.delenv("NO_PROXY", raising=False)
        env.delenv("no_proxy", raising=False)
        async with client(standin, max_transport_retries=0) as judge:
            outcome = await judge.judge(t1_request(), T1)
    assert outcome.verdict is not None
    assert stats(standin)["requests"] == 1


async def test_a_timed_out_or_cancelled_call_gives_its_connection_back(
    standin: StandinThread,
) -> None:
    """Every slot's connection is usable again after a read timeout and after a cancellation:
    were one kept, the two calls at the end could not both be in flight."""
    control(standin, {"script": ["timeout", "timeout"]})  # each hangs until the client leaves
    # The timeout leaves the 200 ms calls at the end ample room on a loaded machine.
    async with client(standin, concurrency=2, timeout=1.0, max_transport_retries=0) as judge:
        with pytest.raises(JudgeUnavailable, match="timeout"):
            await judge.judge(t1_request(0), T1)
        hanging = asyncio.create_task(judge.judge(t1_request(1), T1))

        async def in_flight() -> bool:  # the call reached the stand-in and hangs there
            return bool(stats(standin)["in_flight"] == 1)

        await wait_for(in_flight, 5, message="the call in flight")
        hanging.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hanging
        control(standin, {"latency_ms": 200, "reset_stats": True})
        async with asyncio.timeout(5):
            both = await asyncio.gather(
                judge.judge(t1_request(2), T1), judge.judge(t1_request(3), T1)
            )
    assert all(outcome.verdict is not None for outcome in both)
    assert stats(standin)["max_in_flight"] == 2


class _HeaderRecorder(BaseHTTPRequestHandler):
    """A server on loopback that keeps each request's path and headers as they arrived."""

    seen: ClassVar[list[tuple[str, dict[str, str]]]]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        body = json.dumps({"choices": [{"message": {"content": "{}"}}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


async def test_requests_name_the_client_and_their_content() -> None:
    """What goes over the wire: read by a real server, not from the client's request object."""

    class Recorder(_HeaderRecorder):
        seen: ClassVar[list[tuple[str, dict[str, str]]]] = []

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        async with JudgeClient(base_url, sleep=Sleeps(), max_transport_retries=0) as judge:
            await judge.judge(t1_request(), T1)
    finally:
        server.shutdown()
        server.server_close()
    path, headers = Recorder.seen[0]
    assert headers["user-agent"] == "mmrarebench-leaderboard"
    assert headers["content-type"] == "application/json"
    assert "authorization" not in headers  # no JUDGE_API_KEY, no header
    assert path == "/v1/chat/completions"


async def test_cache_hits_make_no_request(standin: StandinThread) -> None:
    requests = [t1_request(n) for n in range(10)]
    cache = InMemoryJudgeCache()
    async with client(standin) as judge:
        first = [o async for o in judge.judge_many(requests, T1, cache)]
        assert stats(standin)["requests"] == 10
        assert len(cache.entries) == 10
        second = [o async for o in judge.judge_many(requests, T1, cache)]
        assert (judge.counters.hits, judge.counters.misses) == (10, 10)
    assert stats(standin)["requests"] == 10  # unchanged: no HTTP for cached verdicts
    assert all(o.cached and o.attempts == 0 for o in second)
    by_id = {o.item_id: o for o in first}
    assert all(o.verdict == by_id[o.item_id].verdict for o in second)


async def test_judge_errors_are_not_cached(standin: StandinThread) -> None:
    control(standin, {"script": ["malformed"] * 3})
    cache = InMemoryJudgeCache()
    async with client(standin, max_parse_retries=2) as judge:
        outcomes: list[JudgeOutcome] = [
            o async for o in judge.judge_many([t1_request()], T1, cache)
        ]
    assert outcomes[0].verdict is None and outcomes[0].error is not None
    assert cache.entries == {}


async def test_judge_many_stops_on_judge_unavailable(standin: StandinThread) -> None:
    control(standin, {"error_500_rate": 1.0})
    async with client(standin, max_transport_retries=1) as judge:
        with pytest.raises(JudgeUnavailable):
            async for _ in judge.judge_many([t1_request(n) for n in range(8)], T1):
                pass


async def test_standin_ratings_are_deterministic(standin: StandinThread) -> None:
    async with client(standin) as judge:
        first = await judge.judge(t1_request(), T1)
        second = await judge.judge(t1_request(), T1)
    assert first.verdict is not None and second.verdict is not None
    assert first.verdict.raw_reply == second.verdict.raw_reply


async def test_standin_applies_the_recall_rule(standin: StandinThread) -> None:
    # recall = |{alpha, beta}| / |{alpha, beta, gamma, delta}| = 0.5; T4 thresholds
    # tᵢ = 0.15 + 0.6·i/7: ≥ tᵢ for i ≤ 4 (→ 2), ≥ tᵢ/2 for the rest (→ 1).
    # Only the reference_answer / aliases / targets sections count; context is not rated.
    user = (
        "<<<REFERENCE f00d>>>\n[reference_answer] Reference answer:\nAlpha, beta; gamma.\n"
        "[context] Case narrative:\nzeta eta theta iota kappa\n"
        "[targets] Targets:\ndelta\n<<<END REFERENCE f00d>>>\n"
        "<<<CANDIDATE ab12>>>\nalpha BETA epsilon\n<<<END CANDIDATE ab12>>>"
    )
    request = JudgeRequest(
        item_id="hand-made",
        model=STANDIN_MODEL,
        messages=({"role": "user", "content": user},),
        response_format=response_format(T4),
        sampling={"temperature": 0, "seed": 1, "max_tokens": 64},
    )
    async with client(standin) as judge:
        outcome = await judge.judge(request, T4)
    assert outcome.verdict is not None
    assert list(outcome.verdict.ratings.values()) == [2, 2, 2, 2, 2, 1, 1, 1]
    assert rate([("a", None), ("b", None)], "alpha beta", "alpha") == {"a": "YES", "b": "NO"}
    assert rate([("a", None)], "", "anything") == {"a": "NO"}


async def test_seeded_faults_repeat(standin: StandinThread) -> None:
    body = t1_request().body()

    async def run() -> list[int]:
        control(standin, {"error_500_rate": 0.5, "seed": 11})  # re-seeding restarts the sequence
        async with httpx.AsyncClient() as http:
            url = f"{standin.base_url}/chat/completions"
            return [(await http.post(url, json=body)).status_code for _ in range(16)]

    first = await run()
    assert first == await run()
    assert set(first) == {200, 500}


def test_control_rejects_bad_knobs(standin: StandinThread) -> None:
    for changes, message in (
        ({"latency": 5}, "unknown knob(s): latency"),
        ({"error_500_rate": 1.5}, "error_500_rate must be in [0, 1]"),
        ({"script": ["explode"]}, "script: unknown outcome 'explode'"),
        ({"max_concurrency": -1}, "max_concurrency must be ≥ 0"),
    ):
        response = httpx.post(f"{standin.root_url}/_standin/control", json=changes)
        assert response.status_code == 400
        assert message in response.json()["error"]["message"]


def test_standin_rejects_requests_without_a_schema(standin: StandinThread) -> None:
    body = {"model": STANDIN_MODEL, "messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(f"{standin.base_url}/chat/completions", content=json.dumps(body))
    assert response.status_code == 400
    assert "response_format" in response.json()["error"]["message"]
