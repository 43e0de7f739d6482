"""The game-day runner: one scenario end to end, with rollback that cannot be skipped."""
