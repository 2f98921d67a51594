"""MMRareBench leaderboard service."""
