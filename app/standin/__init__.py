"""The reference stand-in judge: a deterministic, OpenAI-compatible judge server for the demo,
the tests and the benchmarks. Its model name (`app.judge.STANDIN_MODEL`,
`mmrare-reference-judge-v1`) is distinct, so its scores are never taken for a real judge's.

    rating.py    the rating rule (pure): dimensions from the response schema, the reference and
                 candidate blocks of the prompt, ratings from lexical recall
    protocol.py  the chat-completions request and reply shapes (pure)
    knobs.py     latency and fault knobs, declared once (help, bounds, defaults) (pure)
    faults.py    the outcome of each chat request: scripted, seeded random fault, or ok
    asgi.py      bare ASGI plumbing
    server.py    the ASGI app, its control and stats routes, and `serve`
    command.py   the command line of `mmrare judge-standin` and `python -m app.standin`

Production code never imports this package: the service reaches a judge only over HTTP.
"""
