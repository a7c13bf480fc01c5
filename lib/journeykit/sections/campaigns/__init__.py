"""Section campaigns."""
