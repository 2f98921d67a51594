"""The stand-in's command line, shared by `mmrare judge-standin` and `python -m app.standin`.

One flag per knob, derived from the knobs' declaration (`app.standin.knobs`): the flag is the
knob's name with dashes, its help, default and bounds are the declaration's, and a value out of
bounds is refused by argparse with the same message a runtime control call gets.
"""

import argparse
from collections.abc import Callable, Sequence
from dataclasses import Field
from typing import Any

from app.judge import STANDIN_MODEL
from app.standin.knobs import KnobError, StandinKnobs, knob_fields, parse_flag

PROG = "python -m app.standin"
DESCRIPTION = (
    f"Serve the deterministic OpenAI-compatible reference judge (model {STANDIN_MODEL}) for "
    "demos, tests and benchmarks. It rates each rubric dimension from the lexical recall of the "
    "reference tokens in the candidate answer; latency and faults are configurable here or at "
    "run time with POST /_standin/control. It prints `mmrare stand-in judge ready on "
    "http://HOST:PORT/v1` once listening and serves until interrupted."
)
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8090,
        help="TCP port (default %(default)s; 0 picks a free port, named on the ready line)",
    )
    for spec in knob_fields():
        default = spec.default
        if isinstance(default, tuple):
            shown, metavar = ",".join(default) or "none", "OUTCOMES"
        else:
            shown, metavar = str(default), "N" if isinstance(default, int) else "X"
        parser.add_argument(
            "--" + spec.name.replace("_", "-"),
            dest=spec.name,
            type=_flag_type(spec),
            default=default,
            metavar=metavar,
            help=f"{spec.metadata['flag_help']} (default {shown})",
        )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=LOG_LEVELS,
        help="uvicorn log level (default %(default)s)",
    )


def _flag_type(spec: Field[Any]) -> Callable[[str], Any]:
    convert = parse_flag(spec)

    def flag_type(text: str) -> Any:
        try:
            return convert(text)
        except KnobError as exc:  # argparse shows an ArgumentTypeError's own message
            raise argparse.ArgumentTypeError(str(exc)) from None

    return flag_type


def knobs_from_args(args: argparse.Namespace) -> StandinKnobs:
    """The knobs the parsed flags name; KnobError if they do not fit together."""
    return StandinKnobs(**{spec.name: getattr(args, spec.name) for spec in knob_fields()})


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Serve with the parsed flags (a knob error exits 2 with argparse's usage message)."""
    from app.standin.server import serve

    try:
        knobs = knobs_from_args(args)
    except KnobError as exc:
        parser.error(str(exc))
    serve(knobs, host=args.host, port=args.port, log_level=args.log_level)


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    run(parser.parse_args(argv), parser)
