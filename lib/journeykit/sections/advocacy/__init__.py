"""Section advocacy."""
