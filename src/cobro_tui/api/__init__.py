"""Wire models of the HTTP API /v1 (CSP/1), shared by the client and the reference server."""
