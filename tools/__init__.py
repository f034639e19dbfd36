"""Command-line tools: ``willump-opt``."""
