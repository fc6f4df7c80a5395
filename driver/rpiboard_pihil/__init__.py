"""pihil."""
