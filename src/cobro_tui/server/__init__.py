"""The reference backend: FastAPI over SQLite (default) or PostgreSQL, the contract integrators implement."""
