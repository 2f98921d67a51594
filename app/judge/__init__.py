"""The judge: client, prompt rendering and reply parsing (the stand-in server is app.standin)."""

# The stand-in judge's model name, distinct so its scores are never taken for a real judge's.
# Here rather than in app.standin: settings and services name it, and never import the stand-in.
STANDIN_MODEL = "mmrare-reference-judge-v1"
