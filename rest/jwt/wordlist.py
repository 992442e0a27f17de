"""Built-in wordlist for ``jwt.weak-secret``: secrets copied from tutorials,
framework defaults and documentation that keep turning up in production.

Small on purpose (a probe, not a cracker): if one of these signs your
tokens, anyone can mint them.  Users can add their own list with
``--wordlist``.
"""

from __future__ import annotations

WORDS: tuple[str, ...] = (
    "secret", "Secret", "SECRET", "secret123", "secretkey", "secret_key", "secret-key", "SECRET_KEY",
    "your-256-bit-secret", "your-384-bit-secret", "your-512-bit-secret", "your_jwt_secret", "your-secret-key",
    "your_secret_key", "YOUR_SECRET_KEY", "yoursecret", "jwt", "jwt_secret", "jwt-secret", "jwtsecret",
    "JWT_SECRET", "jwtSecret", "JWTSecret", "jwt_secret_key", "jwtkey", "jwt-key", "token", "tokensecret",
    "token_secret", "mysecret", "my_secret", "my-secret", "mysecretkey", "my_secret_key", "my-secret-key",
    "MySecretKey", "ThisIsMySecretKey", "thisismysecretkey", "supersecret", "super_secret", "super-secret",
    "supersecretkey", "topsecret", "verysecret", "s3cr3t", "s3cret", "secr3t", "shhhhh", "shhhhhared-secret",
    "keyboard cat", "changeme", "change_me", "change-me", "CHANGE_ME", "changeit", "change_this",
    "changethis", "replace_me", "default", "default_secret", "password", "Password", "password1",
    "password123", "passw0rd", "P@ssw0rd", "admin", "admin123", "administrator", "root", "toor", "test",
    "test123", "testing", "dev", "development", "prod", "production", "staging", "local", "demo",
    "example", "sample", "hello", "helloworld", "hello_world", "123", "1234", "12345", "123456",
    "1234567", "12345678", "123456789", "1234567890", "qwerty", "qwertyuiop", "letmein", "welcome",
    "abc123", "abcdef", "key", "Key", "KEY", "private", "privatekey", "private_key", "public", "api",
    "apikey", "api_key", "api-key", "auth", "authsecret", "auth_secret", "app", "appsecret", "app_secret",
    "application", "server", "node", "express", "flask", "django", "django-insecure", "laravel",
    "spring", "rails", "secret_key_base", "session", "session_secret", "cookie", "hmac", "hmacsecret",
    "sign", "signing", "signingkey", "signing_key", "none", "null", "undefined", "0", "1", "a", "x",
    "my-32-character-ultra-secure-and-ultra-long-secret", "a-string-secret-at-least-256-bits-long",
    "gopher", "golang", "python", "java", "nodejs", "pass", "master", "login", "user", "guest",
)  # fmt: skip
