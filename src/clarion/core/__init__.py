"""Framework-free building blocks: clock, ids, money, errors, the metric vocabulary."""
