"""rest: transport- and token-level security checks for REST APIs (TLS,
OAuth 2.0, JWT, HTTP controls, OpenAPI)."""
