"""A generated Mexican demo portfolio: deterministic for a seed, realistic enough to train on."""
