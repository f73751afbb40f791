"""Experiments: A/B/n and multivariate tests on campaigns, read honestly at any time."""
