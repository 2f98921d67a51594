"""A text progress bar for `mmrare submit --wait`: redrawn in place on a terminal, one line per
change otherwise (logs, CI), always on stderr so stdout stays the result."""

from typing import Any, TextIO

BAR_WIDTH = 30
FINAL = ("scored", "failed", "cancelled")


def describe(status: dict[str, Any]) -> str:
    """'T1 #12 judging [#######.......] 140/560 25% · ~3 min left'."""
    run_status = status.get("status") or status.get("state") or "?"
    progress = status.get("progress") or {}
    done, total = progress.get("items_done", 0), progress.get("items_total", 0)
    share = done / total if total else 0.0
    filled = round(share * BAR_WIDTH)
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    text = f"{status['track']} #{status['id']} {run_status:<9} [{bar}] {done}/{total} {share:4.0%}"
    if run_status == "queued" and progress.get("queue_position"):
        text += f" · position {progress['queue_position']} in the queue"
    eta = progress.get("eta_seconds")
    if run_status == "judging" and eta is not None:
        text += f" · ~{_minutes(eta)} left"
    if run_status == "waiting" and progress.get("waiting"):
        text += f" · {progress['waiting']}"
    return text


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


class ProgressPrinter:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last: dict[int, str] = {}

    def show(self, statuses: list[dict[str, Any]]) -> None:
        lines = [describe(status) for status in statuses]
        if self.tty:
            if self.last:
                self.stream.write(f"\x1b[{len(lines)}F")  # back to the first line of the block
            for line in lines:
                self.stream.write(f"\x1b[2K{line}\n")
            self.last = dict(enumerate(lines))
        else:
            for index, line in enumerate(lines):
                if self.last.get(index) != line:
                    self.stream.write(line + "\n")
                    self.last[index] = line
        self.stream.flush()
