"""The leaderboard's HTTP client, used by `mmrare submit` and `mmrare status` (httpx only: no
server code, no database)."""
