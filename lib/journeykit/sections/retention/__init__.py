"""Section retention."""
