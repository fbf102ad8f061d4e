"""The local cache: SQLCipher-encrypted SQLite through SQLModel, its migrations and repositories."""
