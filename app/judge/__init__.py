"""The judge: client, prompt rendering, reply parsing, and the reference stand-in server."""

# The stand-in judge's model name, distinct so its scores are never taken for a real judge's.
# Here rather than in standin.py so settings and services can name it without importing a server.
STANDIN_MODEL = "mmrare-reference-judge-v1"
