"""Tracking: everything that happens on the other side of a campaign, captured once."""
