"""Suites, runs, scoring, leaderboard, plots, reports, paper reproductions and the command line."""
