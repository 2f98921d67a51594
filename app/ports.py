"""Is a TCP port free to listen on? Asked before a server starts, so a busy port is one line
naming the port and the flag that changes it, not a bind traceback."""

import errno
import socket


class PortBusy(Exception):
    """The port cannot be listened on; the message names it and the flag to choose another."""


def is_free(host: str, port: int) -> bool:
    """False when something listens there; other bind failures (a bad address, a privileged
    port) raise OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As the servers bind: a port only in TIME_WAIT is free, one with a listener is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def require_free(host: str, port: int, flag: str, what: str = "the service") -> None:
    try:
        free = is_free(host, port)
    except OSError as exc:
        raise PortBusy(
            f"{what} cannot listen on {host}:{port} ({exc.strerror or exc}); choose another "
            f"port with {flag} N"
        ) from None
    if not free:
        raise PortBusy(
            f"port {port} on {host} is already in use, so {what} cannot start there; stop what "
            f"listens on it, or choose another port with {flag} N"
        )
