"""Campaigns as plans: objective, KPI targets, budget, hypotheses, brief, lifecycle."""
