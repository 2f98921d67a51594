"""Token F1 (level 2 of the protocol), exactly as the SQuAD v1.1 evaluation script computes it.

See docs/scoring.md for why this is the multiset reading of the paper's Eq. (1).
"""

import re
import string
from collections import Counter
from collections.abc import Iterable

_PUNCTUATION = frozenset(string.punctuation)  # ASCII only: ’ and – are kept, as in SQuAD v1.1
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """Lower-case, drop ASCII punctuation, drop whole-word articles, collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def answer_tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def token_f1(prediction: str, gold: str) -> float:
    """F1 over the multiset of shared tokens; 0.0 when nothing is shared, even both empty."""
    predicted = answer_tokens(prediction)
    expected = answer_tokens(gold)
    shared = sum((Counter(predicted) & Counter(expected)).values())
    if shared == 0:
        return 0.0
    precision = shared / len(predicted)
    recall = shared / len(expected)
    return 2 * precision * recall / (precision + recall)


def best_token_f1(prediction: str, answer: str, aliases: Iterable[str] = ()) -> float:
    """The maximum F1 over the reference answer and its aliases."""
    return max(token_f1(prediction, gold) for gold in (answer, *aliases))


def mean_token_f1(per_item: Iterable[float], total_items: int) -> float:
    """Track F1 on a 0–100 scale: a missing prediction counts 0, so divide by all items."""
    if total_items <= 0:
        return 0.0
    return 100.0 * sum(per_item) / total_items
