"""Budget allocation: the budget model, the allocator and its guard rails, and pacing."""
