"""Contact rules: pure decisions over plain values (docs/architecture.md §2; the law behind each preset is cited in config/rules/)."""
