"""Named TLS policy profiles: what a server may offer, as data.

A profile is a frozen :class:`Profile`.  The three Mozilla profiles are read
from the Mozilla guideline JSON that sslyze ships (``sslyze.mozilla_tls_profile``,
currently version 5.7) so apisec judges a server exactly as sslyze's
``--mozilla_config`` does; ``nist-800-52r2`` and ``pci-dss-4`` are TOML files
next to this module (``rest/tls/profiles/`` is a package so that the wheel
ships them and an installed copy reads them as a source checkout does); a
user's own profile is a TOML or YAML file with the same keys (see
``docs/rest-tls.md``).

Every list field has two meanings on purpose: a list is a *closed* list (only
these are allowed; an empty list allows nothing), while a missing key
(``None``) means "no closed list" and only the inherent weaknesses
(RC4, NULL, EXPORT, SHA-1 signatures…) are held against the server.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from rest.errors import BadInput

PROFILE_DIR = Path(__file__).parent
MOZILLA_PROFILES = ("mozilla-modern", "mozilla-intermediate", "mozilla-old")
BUILTIN_PROFILES = (*MOZILLA_PROFILES, "nist-800-52r2", "pci-dss-4")
DEFAULT_PROFILE = "mozilla-intermediate"
PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_PROTOCOL_ALIASES = {"TLSv1": "TLSv1.0", "TLS1.0": "TLSv1.0", "TLS1.1": "TLSv1.1", "TLS1.2": "TLSv1.2"}
_PROTOCOL_ALIASES.update({"TLS1.3": "TLSv1.3", "SSL2": "SSLv2", "SSL3": "SSLv3"})
# Mozilla uses ANSI X9.62 names for two curves; sslyze reports SECG names.
_CURVE_ALIASES = {"prime256v1": "secp256r1", "prime192v1": "secp192r1", "P-256": "secp256r1"}
_CURVE_ALIASES.update({"P-384": "secp384r1", "P-521": "secp521r1", "x25519": "X25519", "x448": "X448"})


@dataclass(frozen=True)
class Profile:
    """What one policy allows a TLS server to offer."""

    name: str
    """Profile id shown in evidence, e.g. ``mozilla-intermediate``."""
    title: str = ""
    """One line naming the policy and its version."""
    source: str = ""
    """Where the policy is published (URL)."""
    protocols: frozenset[str] = frozenset({"TLSv1.2", "TLSv1.3"})
    """Protocol versions allowed; anything else offered fails ``tls.legacy-protocol``."""
    require_tls13: bool = False
    """``tls.no-tls13`` fails (instead of warning) when TLS 1.3 is not offered."""
    ciphers: frozenset[str] | None = None
    """IANA names of the TLS ≤ 1.2 suites allowed; ``None``: any not inherently weak."""
    tls13_ciphers: frozenset[str] | None = None
    """IANA names of the TLS 1.3 suites allowed; ``None``: any."""
    require_forward_secrecy: bool = True
    """Static-RSA/DH key exchange fails ``tls.no-forward-secrecy`` (else it warns)."""
    curves: frozenset[str] | None = None
    """Key-exchange groups allowed (SECG names, ``X25519``…); ``None``: any big enough."""
    dh_min_bits: int = 2048
    """Smallest finite-field DHE group allowed."""
    ecdh_min_bits: int = 256
    """Smallest ECDHE group allowed (X25519 counts as 256)."""
    rsa_min_bits: int = 2048
    """Smallest RSA key allowed in the server's certificates."""
    ec_min_bits: int = 256
    """Smallest EC key allowed in the server's certificates."""
    cert_key_types: frozenset[str] | None = None
    """Leaf key types allowed (``rsa``, ``ecdsa``, ``ed25519``…); ``None``: any."""
    cert_curves: frozenset[str] | None = None
    """Curves allowed for an EC leaf key; ``None``: any of at least ``ec_min_bits``."""
    cert_signatures: frozenset[str] | None = None
    """Leaf signature algorithms allowed (``sha256WithRSAEncryption``…); ``None``: any but SHA-1/MD5."""
    max_cert_lifetime_days: int | None = None
    """Longest leaf validity period allowed; ``None``: no maximum."""
    expiry_warn_days: int = 30
    """``tls.cert-expiring-soon`` warns when the leaf expires within this many days."""
    hsts_min_age: int = 31536000
    """Smallest HSTS ``max-age`` (seconds) that passes ``tls.hsts``."""
    require_fallback_scsv: bool = False
    """Missing TLS_FALLBACK_SCSV support fails (instead of warning)."""
    require_ems: bool = False
    """Missing Extended Master Secret support fails (instead of warning)."""

    def describe(self) -> str:
        return f"{self.name} ({self.title})" if self.title else self.name


def _names(values: Any, aliases: dict[str, str], what: str, src: str) -> frozenset[str]:
    if not isinstance(values, (list, tuple, set, frozenset)) or not all(isinstance(v, str) for v in values):
        raise BadInput(f"profile {src}: {what} must be a list of strings")
    return frozenset(aliases.get(v, v) for v in values)


def profile_from_mapping(data: dict[str, Any], *, src: str = "<profile>") -> Profile:
    """Build a :class:`Profile` from parsed TOML/YAML; unknown keys are refused
    (a typo must not silently weaken a policy)."""
    if not isinstance(data, dict):
        raise BadInput(f"profile {src}: expected a table of settings")
    known = {f.name: f for f in fields(Profile)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise BadInput(f"profile {src}: unknown setting(s) {', '.join(unknown)}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("protocols",):
            protos = _names(value, _PROTOCOL_ALIASES, key, src)
            bad = sorted(protos - set(PROTOCOLS))
            if bad:
                raise BadInput(
                    f"profile {src}: unknown protocol(s) {', '.join(bad)} (use {', '.join(PROTOCOLS)})"
                )
            kwargs[key] = protos
        elif key in ("curves", "cert_curves"):
            kwargs[key] = _names(value, _CURVE_ALIASES, key, src)
        elif key in ("ciphers", "tls13_ciphers", "cert_signatures", "cert_key_types"):
            kwargs[key] = _names(value, {}, key, src)
        elif key in ("name", "title", "source"):
            if not isinstance(value, str):
                raise BadInput(f"profile {src}: {key} must be a string")
            kwargs[key] = value
        elif key.startswith("require_"):
            if not isinstance(value, bool):
                raise BadInput(f"profile {src}: {key} must be true or false")
            kwargs[key] = value
        else:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BadInput(f"profile {src}: {key} must be a non-negative integer")
            kwargs[key] = value
    kwargs.setdefault("name", Path(src).stem)
    return Profile(**kwargs)


def _mozilla(level: str) -> Profile:
    """One of Mozilla's server-side TLS configurations, from sslyze's copy of the JSON."""
    from sslyze.mozilla_tls_profile.tls_config_checker import MozillaTlsConfiguration, TlsConfigurationEnum

    cfg = MozillaTlsConfiguration.get(TlsConfigurationEnum(level))
    path = MozillaTlsConfiguration._JSON_PROFILE_PATH
    version = path.stem
    ciphers = frozenset(cfg.ciphers.iana)
    data: dict[str, Any] = {
        "name": f"mozilla-{level}",
        "title": f"Mozilla server-side TLS {version}, {level}",
        "source": f"https://ssl-config.mozilla.org/guidelines/{version}.json",
        "protocols": sorted(cfg.tls_versions),
        "require_tls13": "TLSv1.2" not in cfg.tls_versions,
        "ciphers": sorted(ciphers),
        "tls13_ciphers": sorted(cfg.ciphersuites),
        # Mozilla's lists say it implicitly: every intermediate/modern suite is (EC)DHE.
        "require_forward_secrecy": all(c.startswith(("TLS_ECDHE_", "TLS_DHE_")) for c in ciphers),
        "curves": sorted(cfg.tls_curves),
        "dh_min_bits": cfg.dh_param_size or 0,
        "ecdh_min_bits": cfg.ecdh_param_size,
        "rsa_min_bits": cfg.rsa_key_size or 2048,
        "cert_key_types": sorted(cfg.certificate_types),
        "cert_curves": sorted(cfg.certificate_curves),
        "cert_signatures": sorted(cfg.certificate_signatures),
        "max_cert_lifetime_days": cfg.maximum_certificate_lifespan,
        "hsts_min_age": cfg.hsts_min_age,
        # sslyze's Mozilla checker treats both as non-compliance.
        "require_fallback_scsv": True,
        "require_ems": True,
    }
    return profile_from_mapping(data, src=f"mozilla {version}")


def load_profile(name_or_path: str | Path | Profile) -> Profile:
    """A built-in profile by name, or a custom profile from a ``.toml``/``.yaml`` file.

    Raises :class:`rest.errors.BadInput` (exit 2) for an unknown name or an
    unreadable/invalid file, so a typo never falls back to a weaker default."""
    if isinstance(name_or_path, Profile):
        return name_or_path
    text = str(name_or_path)
    if text in MOZILLA_PROFILES:
        return _mozilla(text.removeprefix("mozilla-"))
    if text in BUILTIN_PROFILES:
        return _load_file(PROFILE_DIR / f"{text}.toml")
    path = Path(text)
    if path.suffix.lower() in (".toml", ".yaml", ".yml", ".json"):
        return _load_file(path)
    raise BadInput(
        f"unknown TLS profile {text!r}: use one of {', '.join(BUILTIN_PROFILES)} or a .toml/.yaml file"
    )


def _load_file(path: Path) -> Profile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read TLS profile {path}: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(raw.decode("utf-8"))
        else:  # YAML (JSON is a subset)
            import yaml

            data = yaml.safe_load(raw)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"TLS profile {path} is not valid: {str(exc).splitlines()[0]}") from None
    except Exception as exc:  # yaml.YAMLError and friends
        raise BadInput(f"TLS profile {path} is not valid: {str(exc).splitlines()[0]}") from None
    return profile_from_mapping(data, src=str(path))
