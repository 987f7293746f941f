"""Small shared helpers: logging, progress bars, atomic file writes."""
