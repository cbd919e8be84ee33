"""The Litestar application: the JSON API for badges and the leaderboard pages."""
