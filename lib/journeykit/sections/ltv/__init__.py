"""Section ltv."""
