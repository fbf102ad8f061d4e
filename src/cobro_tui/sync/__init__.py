"""The workstation's side of CSP/1: an HTTP client with typed errors, and the sync engine."""
