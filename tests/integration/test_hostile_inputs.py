"""A corpus of hostile inputs, each sent through the real API on PostgreSQL: encodings, JSON
structure, sizes, multipart forms, model metadata and URLs. Each answers the 4xx with its own
message (or is accepted as docs/formats.md documents), never a 5xx; a rejected upload's status
stays readable; and what was stored before — an accepted submission, a model's metadata — is
unchanged after every case."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.tracks import Track
from tests.integration.helpers import ServedDemo, demo_predictions, serve_demo_on_postgres

pytestmark = pytest.mark.integration

MIN_CASES = 60  # the corpus below; fewer means cases were lost
UPLOAD_LIMIT = 256 * 1024
MODEL = "edge-vlm"
BASELINE_MODEL = "steady-vlm"
ACCEPTED = (200, 201)


def line(item_id: str = "t1-0001", prediction: Any = "an answer", **extra: Any) -> str:
    return json.dumps({"id": item_id, "prediction": prediction, **extra})


def valid(tag: str) -> bytes:
    """A valid T1 file whose bytes are this case's own (so it is never a duplicate)."""
    return (line("t1-0001", f"answer for {tag}") + "\n" + line("t1-0002", "x") + "\n").encode()


Send = Callable[[httpx.Client], httpx.Response]


@dataclass(frozen=True)
class Case:
    name: str
    send: Send
    status: tuple[int, ...]
    says: str  # a part of the answer's message ("" for an acceptance)


def file_upload(data: bytes, *, filename: str = "p.jsonl", model: str = MODEL, **form: str) -> Send:
    fields = {"track": "T1", "model": model, **form}
    return lambda c: c.post(
        "/api/v1/submissions", data=fields, files={"file": (filename, data, "application/jsonl")}
    )


def refused(name: str, data: bytes, says: str, status: int = 422) -> Case:
    return Case(name, file_upload(data), (status,), says)


def accepted(name: str, data: bytes) -> Case:
    return Case(name, file_upload(data), ACCEPTED, "")


def form(name: str, says: str, *, data: bytes | None = None, **fields: str) -> Case:
    content = data if data is not None else valid(name)
    return Case(name, file_upload(content, **fields), (422,), says)


def raw_multipart(body: bytes, boundary: str = "XyZ") -> Send:
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    return lambda c: c.post("/api/v1/submissions", content=body, headers=headers)


def part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"'.encode()
    if filename is not None:
        disposition += b'; filename="' + filename.encode("utf-8", "surrogatepass") + b'"'
    return b"--XyZ\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + value + b"\r\n"


def fields_part() -> bytes:
    return part("track", b"T1") + part("model", MODEL.encode())


def get(path: str) -> Send:
    return lambda c: c.get(path)


def json_request(method: str, path: str, body: bytes) -> Send:
    headers = {"content-type": "application/json"}
    return lambda c: c.request(method, path, content=body, headers=headers)


GOOD = line("t1-0001", "ok")
TOO_DEEP = '{"id": "t1-0001", "prediction": "x", "extra": ' + "[" * 5000 + "]" * 5000 + "}"

CASES = [
    # --- encoding ---
    accepted("UTF-8 byte-order mark", b"\xef\xbb\xbf" + valid("bom")),
    refused("UTF-16", valid("utf16").decode().encode("utf-16"), "not valid UTF-8"),
    refused("latin-1", b'{"id": "t1-0001", "prediction": "caf\xe9"}', "not valid UTF-8 (byte 0xe9"),
    refused("overlong UTF-8", b'{"id": "t1-0001", "prediction": "\xc0\xaf"}', "not valid UTF-8"),
    refused("raw surrogate bytes", b'{"id": "t1-0001", "prediction": "\xed\xa0\x80"}', "UTF-8"),
    refused(
        "escaped lone surrogate in an id",
        b'{"id": "t1-\\ud800", "prediction": "x"}',
        "'id' holds U+D800 (half of a UTF-16 surrogate pair",
    ),
    refused(
        "escaped lone surrogate in a prediction",
        b'{"id": "t1-0001", "prediction": "a\\udfffb"}',
        "'prediction' holds U+DFFF",
    ),
    refused(
        "escaped NUL in an id",
        b'{"id": "t1-\\u0000", "prediction": "x"}',
        "'id' holds U+0000 (NUL, a control character) at character 4",
    ),
    refused(
        "escaped NUL in a prediction",
        b'{"id": "t1-0001", "prediction": "a\\u0000"}',
        "'prediction' holds U+0000",
    ),
    refused(
        "raw NUL byte in a string",
        b'{"id": "t1-0001", "prediction": "a\x00b"}',
        "not valid JSON (Invalid control character",
    ),
    refused(
        "escape sequence in a prediction",
        line(prediction="\x1b[31mred").encode(),
        "'prediction' holds U+001B (ESC",
    ),
    refused("C1 control in a prediction", line(prediction="a\x85b").encode(), "U+0085"),
    refused(
        "bidi override in an id",
        line("t1-\u202e1000").encode(),
        "'id' holds U+202E (right-to-left override",
    ),
    refused("zero-width space in an id", line("t1-0001\u200b").encode(), "U+200B"),
    refused("newline in an id", line("t1-\n0001").encode(), "'id' holds U+000A (LF"),
    accepted(
        "tabs and line breaks in a prediction", (line(prediction="a\tb\r\nc") + "\n").encode()
    ),
    # --- structure ---
    refused("deeply nested JSON", TOO_DEEP.encode(), "nested more than 32 levels deep"),
    refused(
        "deeply nested JSON array file",
        b"[" + TOO_DEEP.encode() + b"]",
        "nested more than 32 levels deep",
    ),
    refused(
        "huge array of non-objects",
        ("[" + ",".join(["1"] * 20000) + "]").encode(),
        "expected a JSON object like",
    ),
    accepted(
        "duplicate keys (the last counts)",
        b'{"id": "t1-0009", "id": "t1-0001", "prediction": "dup keys"}\n',
    ),
    refused("id of the wrong type", b'{"id": 7, "prediction": "x"}', "'id' must be a string"),
    refused(
        "prediction of the wrong type",
        line(prediction={"a": 1}).encode(),
        "'prediction' must be a string — got an object",
    ),
    refused("top-level number", b"42\n", "expected a JSON object"),
    refused("top-level string", b'"t1-0001"\n', "expected a JSON object"),
    refused("trailing garbage on a line", (GOOD + " xyz").encode(), "not valid JSON (Extra data"),
    refused(
        "trailing garbage after an array",
        ("[" + GOOD + "] xyz").encode(),
        "unexpected text after the JSON array",
    ),
    refused("unclosed array", ("[" + GOOD).encode(), "the JSON array is not closed"),
    accepted(
        "CRLF line endings", (line(prediction="crlf") + "\r\n" + line("t1-0002") + "\r\n").encode()
    ),
    accepted("empty lines", ("\n\n" + line(prediction="gaps") + "\n\n\n").encode()),
    refused("missing prediction", b'{"id": "t1-0001"}', "missing 'prediction'"),
    refused("missing id", b'{"prediction": "x"}', "missing 'id'"),
    accepted("extra fields", (line(prediction="extra", note={"a": [1]}) + "\n").encode()),
    refused("duplicate ids", (GOOD + "\n" + GOOD).encode(), "duplicate id"),
    refused("unknown id", line("t9-9999").encode(), "unknown id"),
    refused("id of another track", line("t2-0001").encode(), "belongs to track T2"),
    refused("empty file", b"", "the file is empty"),
    refused("whitespace-only file", b" \n\t\n", "the file is empty"),
    # --- size ---
    refused("over the upload limit", b" " * (UPLOAD_LIMIT + 1), "limit", 413),
    refused("gzip bomb", gzip.compress(b" " * (UPLOAD_LIMIT * 8)), "decompresses to more", 413),
    refused("corrupt gzip", b"\x1f\x8b" + b"garbage", "not a valid gzip file"),
    refused(
        "huge single line",
        line(prediction="x" * 100_000).encode(),
        "prediction is 100,000 characters; the limit is 8,000",
    ),
    refused("very many lines", b"{}\n" * 20_000, "40,000 error(s)"),
    refused("1e309", b'{"id": "t1-0001", "prediction": 1e309}', "must be a string — got a number"),
    refused("negative zero id", b'{"id": -0, "prediction": "x"}', "'id' must be a string"),
    refused("NaN", b'{"id": "t1-0001", "prediction": NaN}', "NaN is not valid JSON"),
    refused("Infinity", b'{"id": "t1-0001", "prediction": -Infinity}', "Infinity is not valid"),
    refused(
        "a 5,000-digit number",
        b'{"id": 1' + b"0" * 5000 + b', "prediction": "x"}',
        "a number has more than 4,300 digits",
    ),
    # --- multipart ---
    Case(
        "missing file part",
        raw_multipart(fields_part() + b"--XyZ--\r\n"),
        (422,),
        "the form has no file",
    ),
    Case(
        "two file parts",
        raw_multipart(
            fields_part()
            + part("file", valid("a"), "a.jsonl")
            + part("file", valid("b"), "b.jsonl")
            + b"--XyZ--\r\n"
        ),
        (422,),
        "more than one 'file'",
    ),
    Case(
        "file under another field name",
        raw_multipart(fields_part() + part("upload", valid("c"), "c.jsonl") + b"--XyZ--\r\n"),
        (422,),
        "unexpected file in form field 'upload'",
    ),
    Case(
        "file sent as a text field",
        raw_multipart(fields_part() + part("file", valid("d")) + b"--XyZ--\r\n"),
        (422,),
        "must be a file upload",
    ),
    Case(
        "no closing boundary",
        raw_multipart(fields_part() + part("file", valid("e"), "e.jsonl")),
        (422,),
        "ended before its closing multipart boundary",
    ),
    Case(
        "not multipart",
        json_request("POST", "/api/v1/submissions", b"{}"),
        (422,),
        "send the upload as multipart/form-data",
    ),
    Case(
        "path traversal in the file name",
        file_upload(valid("traversal"), filename="../../etc/passwd"),
        ACCEPTED,
        "",
    ),
    Case(
        "NUL in the file name",
        raw_multipart(
            fields_part() + part("file", valid("nul-name"), "a\x00b.jsonl") + b"--XyZ--\r\n"
        ),
        ACCEPTED,
        "",
    ),
    Case(
        "very long file name",
        file_upload(valid("long-name"), filename="n" * 2000 + ".jsonl"),
        ACCEPTED,
        "",
    ),
    form("unknown form field", "unknown form field(s) 'colour'", colour="red"),
    # --- metadata ---
    form("NUL in the model name", "model name holds U+0000", model="vlm\x00x"),
    form("bidi override in the model name", "model name holds U+202E", model="vlm\u202ex"),
    form("model name too long", "model name is 300 characters; the limit is 200", model="m" * 300),
    form("empty model name", "form field 'model' is missing", model=""),
    form("model name of spaces", "form field 'model' is missing", model="   "),
    form("bad track", "track 'T9' is not a track", track="T9"),
    form(
        "NUL in the organisation",
        "organisation holds U+0000",
        model="org-vlm",
        organisation="Lab\x00",
    ),
    form(
        "newline in the organisation",
        "organisation holds U+000A",
        model="org-vlm",
        organisation="Lab\nTwo",
    ),
    form(
        "parameter count in words",
        "'parameter_count' must be a whole number",
        model="size-vlm",
        parameter_count="7B",
    ),
    form(
        "parameter count in superscript digits",
        "'parameter_count' must be a whole number",
        model="size-vlm",
        parameter_count="²",
    ),
    form(
        "parameter count of 30 digits",
        "'parameter_count' must be a whole number",
        model="size-vlm",
        parameter_count="9" * 30,
    ),
    form(
        "parameter count too large",
        "parameter_count must be a whole number",
        model="size-vlm",
        parameter_count="9" * 18,
    ),
    form(
        "open_weights not a flag",
        "'open_weights' must be true or false",
        model="flag-vlm",
        open_weights="maybe",
    ),
    form("unknown category", "category 'huge' is not one of", model="cat-vlm", category="huge"),
    # --- JSON bodies, paths and query strings ---
    Case(
        "NUL in a model name in the API path", get("/api/v1/models/a%00b"), (422,), "holds U+0000"
    ),
    Case("NUL in a model name in a page path", get("/models/a%00b"), (422,), "holds U+0000"),
    Case(
        "NUL in a model name on the board API",
        get("/api/v1/leaderboard/models/a%00b"),
        (422,),
        "holds U+0000",
    ),
    Case(
        "escaped surrogate in a registered name",
        json_request("POST", "/api/v1/models", b'{"name": "vlm-\\ud800"}'),
        (422,),
        "Input should be a valid string",
    ),
    Case(
        "NUL in a registered description",
        json_request("POST", "/api/v1/models", b'{"name": "d-vlm", "description": "a\\u0000"}'),
        (422,),
        "holds U+0000",
    ),
    Case(
        "parameter count past the column",
        json_request("POST", "/api/v1/models", b'{"name": "p-vlm", "parameter_count": 1e30}'),
        (422,),
        "parameter_count",
    ),
    Case(
        "NUL in a metadata change",
        json_request("PATCH", f"/api/v1/models/{BASELINE_MODEL}", b'{"organisation": "\\u0000"}'),
        (422,),
        "holds U+0000",
    ),
    Case(
        "deeply nested JSON body",
        json_request("POST", "/api/v1/models", b'{"name": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
        (400, 422),
        "",
    ),
    Case(
        "submission id past the column",
        get("/api/v1/submissions/99999999999"),
        (422,),
        "less than or equal to 2147483647",
    ),
    Case("page past the bound", get("/api/v1/leaderboard?page=99999999999"), (422,), "page"),
    Case("NUL in a search", get("/api/v1/leaderboard?q=a%00"), (422,), "holds U+0000"),
    Case("NUL in a rubric filter", get("/api/v1/leaderboard?rubric=%00"), (422,), "U+0000"),
]


STORED_FIELDS = (
    "id",
    "model",
    "team",
    "track",
    "published",
    "pinned",
    "filename",
    "state",
    "created_at",
    "coverage",
    "empty_predictions",
)


@pytest.fixture(scope="module")
def served(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedDemo]:
    directory = tmp_path_factory.mktemp("hostile")
    with serve_demo_on_postgres(postgres_url, directory, max_upload_bytes=UPLOAD_LIMIT) as demo:
        yield demo


@pytest.fixture(scope="module")
def client(served: ServedDemo) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {served.team_token}"}
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def stored(client: httpx.Client) -> Callable[[], dict[str, Any]]:
    """What was stored before the corpus ran, as the API shows it, read again on each call."""
    registered = client.post(
        "/api/v1/models", json={"name": BASELINE_MODEL, "organisation": "Steady Lab"}
    )
    assert registered.status_code == 201, registered.text
    upload = client.post(
        "/api/v1/submissions",
        data={"track": "T1", "model": BASELINE_MODEL},
        files={"file": ("T1.jsonl", demo_predictions(Track.T1), "application/jsonl")},
    )
    assert upload.status_code == 201, upload.text
    submission_id = upload.json()["id"]

    def read() -> dict[str, Any]:
        status = client.get(f"/api/v1/submissions/{submission_id}").json()
        # What was stored: the run's own state moves on by itself (the service's maintenance
        # loop picks the run up and, with no judge to reach, sets it waiting).
        stored = {key: status[key] for key in STORED_FIELDS}
        return {"model": client.get(f"/api/v1/models/{BASELINE_MODEL}").json(), "status": stored}

    return read


def test_the_corpus_holds_every_kind() -> None:
    assert len(CASES) >= MIN_CASES
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input_gets_its_answer_and_loses_nothing(
    case: Case, client: httpx.Client, stored: Callable[[], dict[str, Any]]
) -> None:
    before = stored()
    response = case.send(client)
    assert response.status_code in case.status, (response.status_code, response.text[:2000])
    assert case.says in response.text, response.text[:2000]
    if (
        response.status_code in (200, 201, 422)
        and response.request.url.path.endswith("/submissions")
        and "id" in response.json()
    ):
        check_status_readable(client, response.json())
    assert stored() == before


def check_status_readable(client: httpx.Client, body: dict[str, Any]) -> None:
    """The upload's status, as JSON and as its page, answers 200 with a printable file name."""
    api = client.get(f"/api/v1/submissions/{body['id']}")
    assert api.status_code == 200, api.text
    filename = api.json()["filename"]
    assert "/" not in filename and "\x00" not in filename and 0 < len(filename) <= 255
    page = client.get(body["status_url"])
    assert page.status_code == 200, page.text[:500]
