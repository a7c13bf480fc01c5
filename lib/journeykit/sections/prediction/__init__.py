"""Section prediction."""
