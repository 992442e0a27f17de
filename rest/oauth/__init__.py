"""OAuth 2.0 authorization-server audits: RFC 8414 metadata checks by RFC 9700,
plus live checks when client credentials are given."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest.oauth.metadata import Metadata, MetadataCache, fetch_metadata, well_known_urls

if TYPE_CHECKING:
    from compare.findings import Finding


def check(
    issuer_url: str,
    ca_file: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    timeout: Any = (5.0, 10.0),
    metadata_cache: MetadataCache | None = None,
) -> list[Finding]:
    """Audit the authorization server ``issuer_url``.

    Fetches its metadata (RFC 8414 path-inserted location, then
    ``openid-configuration``), runs every metadata check, and with
    ``client_id``+``client_secret`` the live ``oauth.token-*`` checks.
    Raises :class:`rest.errors.TargetUnreachable` when no metadata can be
    fetched and :class:`rest.errors.BadInput` for a malformed issuer.
    ``metadata_cache`` (one per run) fetches each issuer's document once for
    every target that names it."""
    from rest.oauth.checks import metadata_checks
    from rest.oauth.live import live_checks

    md = fetch_metadata(issuer_url, ca_file=ca_file, timeout=timeout, cache=metadata_cache)
    findings = metadata_checks(md, ca_file=ca_file, timeout=timeout)
    if client_id and client_secret:
        findings += live_checks(md, client_id, client_secret, ca_file=ca_file, timeout=timeout)
    return findings


__all__ = ["Metadata", "MetadataCache", "check", "fetch_metadata", "well_known_urls"]
