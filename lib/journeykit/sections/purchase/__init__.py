"""Section purchase."""
