"""Section summary."""
