"""`python -m app.standin`: the same command as `mmrare judge-standin`."""

from app.standin.command import main

main()
