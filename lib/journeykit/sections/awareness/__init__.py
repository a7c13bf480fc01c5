"""Section awareness."""
