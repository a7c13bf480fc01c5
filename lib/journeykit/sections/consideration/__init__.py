"""Section consideration."""
