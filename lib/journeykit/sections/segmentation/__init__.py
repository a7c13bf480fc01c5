"""Section segmentation."""
