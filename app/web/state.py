"""What the web app holds for its lifetime, set in the lifespan."""

from dataclasses import dataclass

from app.queue import JobQueue
from app.runtime import Runtime


@dataclass
class AppState:
    runtime: Runtime
    queue: JobQueue
