"""Reading an upload form while it streams, so an oversized file is refused early.

Starlette's form parser spools the whole body before a route sees it. Upload routes read
`request.stream()` themselves through python-multipart's streaming parser instead: a
Content-Length over the limit is refused before any byte is read, and otherwise bytes are
counted as they arrive and reading stops as soon as the file passes MAX_UPLOAD_BYTES (the 413
response then closes the connection, so the client stops sending).
"""

from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.db.models import ModelCategory
from app.errors import InvalidInput, PayloadTooLarge
from app.formats.text import TextKind, printable
from app.services.accounts import Principal
from app.services.model_registry import ModelFields, category
from app.services.submissions import SubmissionRequest, SubmitOutcome, submit
from app.storage import FileStore
from app.tracks import Track
from app.unit_of_work import UnitOfWork

FILE_FIELD = "file"
MAX_FIELD_BYTES = 8 * 1024  # every form field but the file
MAX_FIELDS = 32
# Room for the form fields, part headers and boundaries on top of the file itself.
FORM_OVERHEAD_BYTES = MAX_FIELDS * 1024 + MAX_FIELD_BYTES * 4


@dataclass
class UploadForm:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    data: bytes | None = None
    bytes_read: int = 0  # body bytes taken from the stream


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the upload is larger than the {limit:,}-byte limit (MAX_UPLOAD_BYTES) and was not "
        "read further; split the predictions into one file per track, or gzip the file "
        "(its decompressed size must be under the limit too)"
    )


class _FormCollector:
    """python-multipart callbacks that keep the fields and the one file part, with limits."""

    def __init__(self, form: UploadForm, max_file_bytes: int) -> None:
        self.form = form
        self.max_file_bytes = max_file_bytes
        self.file = bytearray()
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.disposition = b""
        self.name: str | None = None
        self.is_file = False
        self.value = bytearray()
        self.field_count = 0

    def on_part_begin(self) -> None:
        self.disposition, self.name, self.is_file = b"", None, False
        self.value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self.header_name).lower() == b"content-disposition":
            self.disposition = bytes(self.header_value)
        self.header_name, self.header_value = bytearray(), bytearray()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        raw_name = options.get(b"name")
        if raw_name is None:
            raise InvalidInput("a form part has no name; send a normal multipart/form-data form")
        self.name = raw_name.decode("utf-8", "replace")
        self.field_count += 1
        if self.field_count > MAX_FIELDS:
            raise InvalidInput(f"the form has more than {MAX_FIELDS} fields")
        self.is_file = b"filename" in options
        if self.is_file:
            if self.name != FILE_FIELD:
                raise InvalidInput(
                    f"unexpected file in form field {self.name!r}; send the predictions as "
                    f"the one file field {FILE_FIELD!r}"
                )
            if self.form.data is not None:
                raise InvalidInput(f"the form has more than one {FILE_FIELD!r}; send one file")
            self.form.filename = options[b"filename"].decode("utf-8", "replace")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.is_file:
            self.file += data[start:end]
            if len(self.file) > self.max_file_bytes:
                raise too_large(self.max_file_bytes)
        else:
            self.value += data[start:end]
            if len(self.value) > MAX_FIELD_BYTES:
                raise InvalidInput(
                    f"form field {self.name!r} is longer than {MAX_FIELD_BYTES:,} bytes; "
                    f"send the predictions as the file field {FILE_FIELD!r}"
                )

    def on_part_end(self) -> None:
        assert self.name is not None
        if self.is_file:
            self.form.data = bytes(self.file)
            return
        if self.name == FILE_FIELD:
            raise InvalidInput(
                f"form field {FILE_FIELD!r} must be a file upload (with a filename), "
                "e.g. curl -F file=@predictions.jsonl"
            )
        if self.name in self.form.fields:
            raise InvalidInput(f"form field {self.name!r} is given twice")
        try:
            self.form.fields[self.name] = self.value.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"form field {self.name!r} is not valid UTF-8") from None


async def read_upload_form(request: Request, *, max_file_bytes: int) -> UploadForm:
    """The upload's fields and file, read from the stream with the size limit enforced."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise InvalidInput(
            "send the upload as multipart/form-data with a 'file' part, e.g. "
            "curl -H 'Authorization: Bearer …' -F track=T1 -F model=NAME "
            "-F file=@predictions.jsonl …/api/v1/submissions"
        )
    max_body = max_file_bytes + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise too_large(max_file_bytes)  # refused before reading a byte
    return await parse_form_stream(
        request.stream(), params[b"boundary"], max_file_bytes=max_file_bytes
    )


async def parse_form_stream(
    chunks: AsyncIterable[bytes], boundary: bytes, *, max_file_bytes: int
) -> UploadForm:
    """Feed body chunks to the streaming parser; stop at the first chunk past a limit."""
    form = UploadForm()
    collector = _FormCollector(form, max_file_bytes)
    max_body = max_file_bytes + FORM_OVERHEAD_BYTES
    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": collector.on_part_begin,
                "on_part_data": collector.on_part_data,
                "on_part_end": collector.on_part_end,
                "on_header_field": collector.on_header_field,
                "on_header_value": collector.on_header_value,
                "on_header_end": collector.on_header_end,
                "on_headers_finished": collector.on_headers_finished,
            },
        )
        async for chunk in chunks:
            form.bytes_read += len(chunk)
            if form.bytes_read > max_body:
                raise too_large(max_file_bytes)
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise InvalidInput(f"the upload is not valid multipart/form-data ({exc})") from None
    if parser.state not in (MultipartState.END, MultipartState.BOUNDARY_PADDING):
        raise InvalidInput(
            "the upload ended before its closing multipart boundary; send the whole form again"
        )
    if form.data is None:
        raise InvalidInput(
            f"the form has no file; send the predictions as the file field {FILE_FIELD!r}"
        )
    return form


# --- From form fields to a submission request -------------------------------------------------

MODEL_FIELDS = (
    "organisation",
    "open_weights",
    "medical",
    "category",
    "parameter_count",
    "url",
    "paper_url",
    "description",
)
UPLOAD_FIELDS = frozenset({"track", "model", *MODEL_FIELDS})
MULTI_TRACK = "multi"
DEFAULT_FILENAME = "predictions.jsonl"
MAX_FILENAME_CHARS = 255
_TRUE = {"true", "on", "1", "yes"}
_FALSE = {"false", "off", "0", "no", ""}


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidInput(f"form field {name!r} must be true or false, not {value[:40]!r}")


def upload_track(value: str | None) -> Track | None:
    """The upload's track; None (field absent, empty or "multi") means every line names its
    own track."""
    if value is None or value.strip().lower() in ("", MULTI_TRACK):
        return None
    try:
        return Track(value.strip().upper())
    except ValueError:
        choices = ", ".join(t.value for t in Track)
        raise InvalidInput(
            f"track {value[:40]!r} is not a track; use one of {choices}, or leave it out "
            f"(or send {MULTI_TRACK!r}) for a file whose every line names its track"
        ) from None


def submission_request(
    form: UploadForm, principal: Principal, *, extra_fields: Iterable[str] = ()
) -> SubmissionRequest:
    fields = dict(form.fields)
    allowed = UPLOAD_FIELDS | set(extra_fields)
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise InvalidInput(
            f"unknown form field(s) {', '.join(map(repr, unknown))}; the upload takes "
            f"{', '.join(sorted(UPLOAD_FIELDS))} and the file"
        )
    model = fields.get("model", "").strip()
    if not model:
        raise InvalidInput(
            "form field 'model' is missing; name the model the predictions are from, "
            "e.g. -F model=MyVLM-7B"
        )
    parameter_count: int | None = None
    raw_count = fields.get("parameter_count", "").strip().replace("_", "")
    if raw_count:
        if not (raw_count.isascii() and raw_count.isdigit() and len(raw_count) <= 20):
            raise InvalidInput(
                "form field 'parameter_count' must be a whole number, e.g. 7000000000"
            )
        parameter_count = int(raw_count)
    model_fields = ModelFields(
        organisation=fields.get("organisation") or None,
        open_weights=_flag("open_weights", fields.get("open_weights", "")),
        medical=_flag("medical", fields.get("medical", "")),
        category=category(fields.get("category") or ModelCategory.GENERAL.value),
        parameter_count=parameter_count,
        url=fields.get("url") or None,
        paper_url=fields.get("paper_url") or None,
        description=fields.get("description") or None,
    )
    assert form.data is not None
    return SubmissionRequest(
        principal=principal,
        model=model,
        track=upload_track(fields.get("track")),
        filename=upload_filename(form.filename),
        data=form.data,
        model_fields=model_fields,
    )


def upload_filename(sent: str | None) -> str:
    """The name a submission shows for its file: only shown, never used as a path, so it is
    cleaned rather than refused — folders dropped, refused characters replaced by U+FFFD, at
    most MAX_FILENAME_CHARS characters."""
    name = printable((sent or "").replace("\\", "/").rsplit("/", 1)[-1], TextKind.NAME).strip()
    return name[:MAX_FILENAME_CHARS] or DEFAULT_FILENAME


async def submit_upload(
    uow: UnitOfWork, store: FileStore, settings: Settings, request: SubmissionRequest
) -> SubmitOutcome:
    """One upload, recorded in the request's unit of work with the runs it wants judged. When a
    concurrent upload commits the same row first — the same file for the same model and track,
    or the same new model name — the database's unique constraint refuses ours; the upload is
    then tried once more and finds that row (a duplicate answers 200; a model now another
    team's answers 403)."""
    try:
        outcome = await submit(uow.session, store, settings, request)
        await uow.session.flush()
    except IntegrityError:
        await uow.discard()  # nothing but this upload was written in this unit of work
        outcome = await submit(uow.session, store, settings, request)
    uow.enqueue_runs(outcome.runs_to_enqueue())
    return outcome
