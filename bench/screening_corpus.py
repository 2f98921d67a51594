"""Prompt-injection screening on the test corpora (development and held-out): detection rate on
injection attempts and false-positive rate on ordinary clinical answers, with the rules that fired.

    .venv/bin/python bench/screening_corpus.py            # rates and counts
    .venv/bin/python bench/screening_corpus.py --verbose  # and the development corpus's misses
"""

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.screening import RULESET_VERSION, screen_text  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "screening"


def load(name: str) -> list[str]:
    with (CORPUS / f"{name}.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def measure(label: str, prefix: str, verbose: bool) -> None:
    injections, clinical = load(prefix + "injections"), load(prefix + "clinical")
    started = time.perf_counter()
    injection_hits = [screen_text(text) for text in injections]
    clinical_hits = [screen_text(text) for text in clinical]
    elapsed = time.perf_counter() - started
    detected = sum(1 for rules in injection_hits if rules)
    false_positives = sum(1 for rules in clinical_hits if rules)
    fired = Counter(rule for rules in injection_hits for rule in rules)
    per_item = elapsed / (len(injections) + len(clinical)) * 1e6
    print(f"== {label} corpus")
    print(f"detection: {detected}/{len(injections)} = {detected / len(injections):.3f}")
    print(
        f"false positives: {false_positives}/{len(clinical)} = "
        f"{false_positives / len(clinical):.3f}"
    )
    print(f"time per answer: {per_item:.0f} µs")
    print("rules fired on injections: " + ", ".join(f"{r} {n}" for r, n in fired.most_common()))
    if verbose:
        for text, rules in zip(injections, injection_hits, strict=True):
            if not rules:
                print(f"missed: {text!r}")
        for text, rules in zip(clinical, clinical_hits, strict=True):
            if rules:
                print(f"false positive {rules}: {text!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="list the development corpus's misses and false positives (never the held-out "
        "corpus's: it must stay unseen by whoever writes the rules)",
    )
    args = parser.parse_args()
    print(f"rule set {RULESET_VERSION}")
    measure("development", "", args.verbose)
    measure("held-out", "heldout/", verbose=False)


if __name__ == "__main__":
    main()
