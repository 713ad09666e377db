"""Layout: positioned text → running-text lines and table grids (one builder for every source)."""
