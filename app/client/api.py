"""A small synchronous client for the submissions API."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

DEFAULT_TIMEOUT_SECONDS = 120.0


class ClientError(Exception):
    """The server refused a request (or could not be reached); the message is the server's."""

    def __init__(
        self, message: str, *, status: int | None = None, details: list[str] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.details = details or []

    def __str__(self) -> str:
        lines = [self.message, *(f"  {line}" for line in self.details)]
        return "\n".join(lines)


@dataclass(frozen=True)
class UploadResult:
    status_code: int
    submissions: list[dict[str, Any]]  # one per track the upload became
    body: dict[str, Any]

    @property
    def rejected(self) -> bool:
        return self.status_code == 422


def _error_of(response: httpx.Response) -> ClientError:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or response.reason_phrase)
        details = [str(line) for line in error.get("details") or []]
    elif isinstance(body, dict) and "detail" in body:  # FastAPI's request validation errors
        message, details = "the server refused the request", [str(body["detail"])]
    else:
        message, details = f"{response.status_code} {response.reason_phrase}", []
        if response.text:
            details = [response.text[:500]]
    retry = response.headers.get("retry-after")
    if retry and response.status_code == 429:
        message = f"{message} (retry after {retry} s)"
    return ClientError(
        f"server answered {response.status_code}: {message}",
        status=response.status_code,
        details=details,
    )


class LeaderboardClient:
    def __init__(
        self,
        server: str,
        token: str | None,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.server = server.rstrip("/")
        self._http = httpx.Client(
            base_url=self.server, headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> "LeaderboardClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach {self.server}: {exc}") from None

    def upload(
        self, path: Path, *, model: str, track: str | None, form: Mapping[str, str]
    ) -> UploadResult:
        data = {"model": model, **form}
        if track:
            data["track"] = track
        with path.open("rb") as handle:
            response = self._request(
                "POST", "/api/v1/submissions", data=data, files={"file": (path.name, handle)}
            )
        if response.status_code not in (200, 201, 422):
            raise _error_of(response)
        body = response.json()
        submissions = body.get("submissions", [body])
        return UploadResult(response.status_code, submissions, body)

    def status(self, submission_id: int) -> dict[str, Any]:
        return self._json("GET", f"/api/v1/submissions/{submission_id}")

    def action(self, submission_id: int, action: str) -> dict[str, Any]:
        return self._json("POST", f"/api/v1/submissions/{submission_id}/{action}")

    def quota(self) -> dict[str, Any]:
        return self._json("GET", "/api/v1/quota")

    def download(self, path: str, target: Path) -> httpx.Headers:
        """Stream a GET's body into `target`; its headers are returned."""
        try:
            with self._http.stream("GET", path) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_of(response)
                with target.open("wb") as handle:
                    for chunk in response.iter_bytes():
                        handle.write(chunk)
                return response.headers
        except httpx.HTTPError as exc:
            raise ClientError(f"cannot reach {self.server}: {exc}") from None

    def _json(self, method: str, path: str) -> dict[str, Any]:
        response = self._request(method, path)
        if response.status_code >= 400:
            raise _error_of(response)
        body: dict[str, Any] = response.json()
        return body

    def url(self, path: str | None) -> str | None:
        return f"{self.server}{path}" if path else None
