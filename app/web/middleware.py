"""ASGI middleware every response passes through: security headers, and a bound on how long
the server waits for a request body."""

import asyncio

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages, the API and /docs load scripts, styles and images from this origin only and run no
# inline script. Inline *styles* stay allowed ('unsafe-inline' in style-src): the progress bars
# and the hand-written SVG charts set computed widths and colours in style attributes, the
# layout's stylesheet is inline, and Swagger UI sets style attributes; a style cannot run code.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # same-origin: a private submission's link carries its view key (`?key=`); no other site
    # may see it in a Referer.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response (pages, API, errors, /docs, static files)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyReadTimeout:
    """Each wait for the next piece of a request body is bounded by `seconds`: a client that
    announces more than it sends (or stalls mid-upload) gets 408 and the connection is closed,
    instead of holding it forever. A client that keeps sending is never cut off, however large
    its upload. Raised as an HTTP error from inside `receive`, so the app's error handlers
    answer it in the one error format (JSON under /api/, the error page elsewhere)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = False

        async def bounded_receive() -> Message:
            nonlocal body_done
            if body_done:  # afterwards the app only listens for a disconnect: no bound
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.seconds)
            except TimeoutError:
                body_done = True
                raise HTTPException(
                    408,
                    f"the request body did not arrive: nothing came for {self.seconds:g} s "
                    "(is Content-Length larger than the body sent?); send the whole body",
                    headers={"Connection": "close"},
                ) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, bounded_receive, send)
