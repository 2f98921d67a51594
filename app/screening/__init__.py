"""Prompt-injection screening of predictions: pure functions over text, no I/O.

A prediction is *flagged* when it addresses the judge instead of the case: instructions to the
grader, a fake verdict, chat-template or prompt-delimiter markers, claims that the reference is
wrong. Flagged items are still judged; a maintainer decides before the submission can be
published (docs/scoring.md, "Prompt-injection screening").
"""

from app.screening.normalise import compact, normalise
from app.screening.rules import (
    RULES,
    RULESET_VERSION,
    ItemFlag,
    Rule,
    screen_predictions,
    screen_text,
)

__all__ = [
    "RULES",
    "RULESET_VERSION",
    "ItemFlag",
    "Rule",
    "compact",
    "normalise",
    "screen_predictions",
    "screen_text",
]
