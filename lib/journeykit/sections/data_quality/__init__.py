"""Section data_quality."""
