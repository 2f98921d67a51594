"""A small Chrome DevTools Protocol client for the browser tests.

One headless Chromium process is started with `--remote-debugging-port=0`; the port it picked is
read from the `DevToolsActivePort` file in its profile directory. Commands go over one websocket
(`websockets`, already installed with uvicorn[standard]) to a page target attached in flat mode,
so nothing but Debian's `chromium` package is needed.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
)
START_SECONDS = 30
COMMAND_SECONDS = 60


class CdpError(RuntimeError):
    """The browser answered a command with an error, or a page script threw."""


class Page:
    """One tab, driven through the browser's websocket with its flat session id."""

    def __init__(self, socket: ClientConnection, session_id: str | None) -> None:
        self._socket = socket
        self._session = session_id
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message_id = self._next_id
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if self._session is not None:
            message["sessionId"] = self._session
        self._socket.send(json.dumps(message))
        deadline = time.monotonic() + COMMAND_SECONDS
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CdpError(f"{method}: no answer within {COMMAND_SECONDS} s")
            answer = json.loads(self._socket.recv(timeout=remaining))
            if answer.get("id") == message_id:
                if "error" in answer:
                    raise CdpError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
            if "method" in answer:
                self._events.append(answer)

    def wait_for(self, event: str) -> None:
        """Block until `event` arrives (events seen while waiting for answers count too)."""
        deadline = time.monotonic() + COMMAND_SECONDS
        while True:
            for i, message in enumerate(self._events):
                if message.get("method") == event:
                    del self._events[: i + 1]
                    return
            self._events.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CdpError(f"no {event} within {COMMAND_SECONDS} s")
            message = json.loads(self._socket.recv(timeout=remaining))
            if "method" in message:
                self._events.append(message)

    def open(self, url: str, width: int, height: int = 900) -> None:
        """Load `url` in a viewport `width` CSS pixels wide (a phone's when narrow)."""
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 600,
        )
        self._events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of `expression` (awaited if it is a promise)."""
        answer = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in answer:
            raise CdpError(f"page script failed: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def screenshot(self, target: Path, *, clip: dict[str, float] | None = None) -> None:
        """The whole page, or the part of it in `clip` (x, y, width, height), as a PNG."""
        extra = {"clip": {**clip, "scale": 1}} if clip else {}
        data = self.send(
            "Page.captureScreenshot", format="png", captureBeyondViewport=True, **extra
        )
        target.write_bytes(base64.b64decode(data["data"]))


@contextmanager
def browser(chromium: str, profile: Path) -> Iterator[Page]:
    """A headless Chromium and one page in it; the process is ended on exit."""
    profile.mkdir(parents=True, exist_ok=True)
    port_file = profile / "DevToolsActivePort"
    port_file.unlink(missing_ok=True)
    log = profile / "chromium.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if process.poll() is not None:
                stderr = log.read_text(errors="replace")[-2000:]
                raise CdpError(f"chromium exited ({process.returncode}): {stderr}")
            if time.monotonic() > deadline:
                raise CdpError(f"chromium did not open its debugging port in {START_SECONDS} s")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as socket:
            root = Page(socket, None)  # browser-level commands
            target = root.send("Target.createTarget", url="about:blank")["targetId"]
            session = root.send("Target.attachToTarget", targetId=target, flatten=True)
            page = Page(socket, session["sessionId"])
            page.send("Page.enable")
            page.send("Runtime.enable")
            yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
