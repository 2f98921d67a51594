"""Which outcome the next chat request gets: a scripted one, a seeded random fault, or "ok".

Pure apart from its own seeded generator: the same knobs give the same outcome sequence.
"""

import random

from app.standin.knobs import StandinKnobs


class FaultPlan:
    """Hands out one outcome per chat request: "ok", "malformed", "timeout", "null_content",
    "prose" or an HTTP status such as "500"."""

    def __init__(self, knobs: StandinKnobs) -> None:
        self.knobs = knobs
        self._script = list(knobs.script)
        self._rng = random.Random(knobs.seed)

    def reconfigure(self, knobs: StandinKnobs, *, reseed: bool, new_script: bool) -> None:
        """Take new knobs; the generator restarts only when asked (a new seed was given), and the
        remaining script is replaced only when a new script was given."""
        self.knobs = knobs
        if reseed:
            self._rng = random.Random(knobs.seed)
        if new_script:
            self._script = list(knobs.script)

    @property
    def remaining_script(self) -> list[str]:
        return list(self._script)

    def next_outcome(self) -> str:
        if self._script:
            return self._script.pop(0)
        knobs = self.knobs
        if not (knobs.error_500_rate or knobs.timeout_rate or knobs.malformed_rate):
            return "ok"
        draw = self._rng.random()  # one draw per request: the fault sequence depends on the seed
        if draw < knobs.error_500_rate:
            return "500"
        if draw < knobs.error_500_rate + knobs.timeout_rate:
            return "timeout"
        if draw < knobs.error_500_rate + knobs.timeout_rate + knobs.malformed_rate:
            return "malformed"
        return "ok"
