"""`python -m app.cli` is `mmrare`."""

from app.cli import main

main()
