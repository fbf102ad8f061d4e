"""Contact rules: pure decisions over plain values (DESIGN.md section 5)."""
