"""TLS checks: a :class:`~rest.tls.scan.TlsScanResult` and a profile in, findings out.

Each check id is registered once here (title, severity, references,
remediation).  Each check is a small function over plain data; an exception
inside one becomes an ``error`` finding for that check only, the way an
sslyze plugin failure becomes an error result rather than a crashed scan.
Evidence names exactly what was offered, so a reader can reproduce it with
``openssl s_client`` or sslyze.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from compare.findings import Finding, Status, check_info, finding
from rest.tls.profiles import Profile
from rest.tls.scan import PROTOCOL_FIELDS, AcceptedCipher, TlsScanResult
from rest.tls.trust import TrustConfig, verify_chain

ALL_CHECKS: tuple[str, ...] = tuple(
    check_info(check_id).check_id  # declared in compare/catalogue.toml; verified at import
    for check_id in (
        "tls.legacy-protocol",
        "tls.no-tls13",
        "tls.weak-cipher",
        "tls.no-forward-secrecy",
        "tls.weak-key-exchange",
        "tls.cert-expired",
        "tls.cert-not-yet-valid",
        "tls.cert-expiring-soon",
        "tls.cert-hostname",
        "tls.cert-untrusted",
        "tls.cert-profile",
        "tls.cert-weak-key",
        "tls.cert-weak-signature",
        "tls.cert-lifetime",
        "tls.vulnerable",
        "tls.insecure-renegotiation",
        "tls.compression",
        "tls.fallback-scsv",
        "tls.extended-master-secret",
    )
)
"""The checks :func:`evaluate` judges from one scan result (``tls.hsts``,
``tls.client-auth`` and ``tls.scan-error`` are emitted outside it)."""

CERT_CHECKS: tuple[str, ...] = tuple(c for c in ALL_CHECKS if c.startswith("tls.cert-"))
"""The certificate checks :func:`check_certificates` judges, derived from
:data:`ALL_CHECKS` so the list is written once."""

# ----------------------------------------------------------------- cipher facts


def is_aead(cipher: AcceptedCipher) -> bool:
    return cipher.protocol == "TLSv1.3" or any(
        m in cipher.name for m in ("_GCM_", "_CCM", "CHACHA20_POLY1305")
    )


def has_forward_secrecy(cipher: AcceptedCipher) -> bool:
    """TLS 1.3 always; TLS <= 1.2 only with ephemeral (EC)DHE key exchange."""
    if cipher.protocol == "TLSv1.3":
        return True
    return cipher.kex is not None or cipher.name.startswith(("TLS_ECDHE_", "TLS_DHE_"))


def weakness(cipher: AcceptedCipher) -> str | None:
    """Inherent weakness of a suite, whatever the profile says (``None`` if none)."""
    name = cipher.name + "_"
    if cipher.anonymous or "_anon_" in name:
        return "anonymous (no authentication)"
    for marker, why in (
        ("_NULL_", "NULL encryption"),
        ("EXPORT", "EXPORT-grade"),
        ("_RC4_", "RC4"),
        ("_RC2_", "RC2"),
        ("_DES40_", "DES40"),
        ("_DES_", "single DES"),
        ("_IDEA_", "IDEA"),
        ("_MD5_", "MD5 MAC"),
    ):
        if marker in name:
            return why
    if "3DES" in name or "DES_192_EDE3" in name:
        return "3DES (64-bit block, Sweet32)"
    if not is_aead(cipher):
        mac = "HMAC-SHA1" if name.endswith("_SHA_") else "HMAC"
        return f"CBC mode with {mac} (not AEAD)"
    return None


_HARD_FAIL = ("anonymous", "NULL", "EXPORT", "RC4", "RC2", "DES40", "single DES", "IDEA", "MD5")

# ----------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class _Ctx:
    result: TlsScanResult
    profile: Profile
    trust: TrustConfig
    side: str
    now: dt.datetime
    target: str

    def f(self, check_id: str, status: Status | str, evidence: str) -> Finding:
        return finding(check_id, status, self.target, evidence, side=self.side)


def _need(ctx: _Ctx, *commands: str) -> str | None:
    errs = [f"{c}: {ctx.result.errors[c]}" for c in commands if c in ctx.result.errors]
    return "sslyze could not complete " + "; ".join(errs) if errs else None


def _fmt(ciphers: Iterable[AcceptedCipher]) -> str:
    by_proto: dict[str, list[str]] = {}
    for c in ciphers:
        by_proto.setdefault(c.protocol, []).append(c.name)
    return "; ".join(f"{p}: {', '.join(sorted(set(ns)))}" for p, ns in by_proto.items())


def _all_ciphers(ctx: _Ctx) -> list[AcceptedCipher]:
    return [c for cs in ctx.result.protocols.values() for c in cs]


def check_protocols(ctx: _Ctx) -> list[Finding]:
    p = ctx.profile
    offered = ctx.result.offered_protocols
    bad = [v for v in offered if v not in p.protocols]
    legacy_allowed = [v for v in offered if v in p.protocols and v in ("TLSv1.0", "TLSv1.1")]
    out: list[Finding] = []
    if not ctx.result.protocols:
        err = _proto_errors(ctx)
        out.append(ctx.f("tls.legacy-protocol", Status.ERROR, err or "no protocol could be tested"))
    elif bad:
        out.append(
            ctx.f(
                "tls.legacy-protocol",
                Status.FAIL,
                f"offered {', '.join(bad)}; profile {p.name} allows only {', '.join(sorted(p.protocols))}",
            )
        )
    elif _proto_errors(ctx):
        out.append(ctx.f("tls.legacy-protocol", Status.ERROR, _proto_errors(ctx) or ""))
    elif legacy_allowed:
        out.append(
            ctx.f(
                "tls.legacy-protocol",
                Status.WARN,
                f"offered {', '.join(legacy_allowed)} (allowed by {p.name}, deprecated by RFC 8996)",
            )
        )
    else:
        out.append(ctx.f("tls.legacy-protocol", Status.PASS, f"offered {', '.join(offered) or 'nothing'}"))

    if "TLSv1.3" not in ctx.result.protocols:
        out.append(ctx.f("tls.no-tls13", Status.ERROR, _need(ctx, "tls_1_3_cipher_suites") or "not tested"))
    elif ctx.result.protocols["TLSv1.3"]:
        out.append(ctx.f("tls.no-tls13", Status.PASS, "TLS 1.3 offered"))
    else:
        status = Status.FAIL if p.require_tls13 else Status.WARN
        out.append(
            ctx.f("tls.no-tls13", status, f"TLS 1.3 not offered (highest: {(offered or ['none'])[-1]})")
        )
    return out


def check_ciphers(ctx: _Ctx) -> list[Finding]:
    p = ctx.profile
    ciphers = _all_ciphers(ctx)
    fails: list[str] = []
    warns: list[str] = []
    for c in ciphers:
        why = weakness(c)
        allowed_list = p.tls13_ciphers if c.protocol == "TLSv1.3" else p.ciphers
        in_profile = allowed_list is None or c.name in allowed_list
        if c.protocol not in p.protocols:
            continue  # judged by tls.legacy-protocol; don't double-count
        if why and any(h in why for h in _HARD_FAIL):
            fails.append(f"{c.protocol} {c.name} ({why})")
        elif not in_profile:
            fails.append(f"{c.protocol} {c.name} ({why + ', ' if why else ''}not in profile {p.name})")
        elif why:
            warns.append(f"{c.protocol} {c.name} ({why}, allowed by {p.name})")
    # Suites on protocol versions the profile rejects still count when inherently broken.
    for c in ciphers:
        if c.protocol not in p.protocols:
            why = weakness(c)
            if why and any(h in why for h in _HARD_FAIL):
                fails.append(f"{c.protocol} {c.name} ({why})")
    if not ciphers:
        err = _proto_errors(ctx)
        return [ctx.f("tls.weak-cipher", Status.ERROR, err or "no cipher suite accepted")]
    if fails:
        return [ctx.f("tls.weak-cipher", Status.FAIL, "; ".join(dict.fromkeys(fails)))]
    if _proto_errors(ctx):  # an untested protocol may hide a weak suite: no pass
        return [ctx.f("tls.weak-cipher", Status.ERROR, _proto_errors(ctx) or "")]
    if warns:
        return [ctx.f("tls.weak-cipher", Status.WARN, "; ".join(dict.fromkeys(warns)))]
    return [ctx.f("tls.weak-cipher", Status.PASS, f"{len(ciphers)} suites, all AEAD and allowed by {p.name}")]


def _proto_errors(ctx: _Ctx) -> str | None:
    """Why some protocol version could not be tested (``None`` when all were)."""
    return _need(ctx, *[f for _, f in PROTOCOL_FIELDS])


def check_forward_secrecy(ctx: _Ctx) -> list[Finding]:
    ciphers = [c for c in _all_ciphers(ctx) if c.protocol != "SSLv2"]
    if not ciphers:
        return [ctx.f("tls.no-forward-secrecy", Status.ERROR, "no cipher suite accepted")]
    static = [c for c in ciphers if not has_forward_secrecy(c)]
    if not static and _proto_errors(ctx):
        return [ctx.f("tls.no-forward-secrecy", Status.ERROR, _proto_errors(ctx) or "")]
    if not static:
        return [ctx.f("tls.no-forward-secrecy", Status.PASS, "every accepted suite uses (EC)DHE")]
    status = (
        Status.FAIL if ctx.profile.require_forward_secrecy or len(static) == len(ciphers) else Status.WARN
    )
    return [ctx.f("tls.no-forward-secrecy", status, f"static key exchange accepted: {_fmt(static)}")]


def check_key_exchange(ctx: _Ctx) -> list[Finding]:
    p = ctx.profile
    problems: list[str] = []
    ciphers = _all_ciphers(ctx)
    dh = sorted({c.kex_bits for c in ciphers if c.kex == "DHE" and c.kex_bits})
    if dh and p.dh_min_bits and dh[0] < p.dh_min_bits:
        problems.append(f"DHE group of {dh[0]} bits (< {p.dh_min_bits})")
    ecdh = sorted({(c.kex_bits, c.kex_group) for c in ciphers if c.kex == "ECDHE" and c.kex_bits})
    if ecdh and p.ecdh_min_bits and ecdh[0][0] < p.ecdh_min_bits:
        problems.append(f"ECDHE curve {ecdh[0][1]} of {ecdh[0][0]} bits (< {p.ecdh_min_bits})")
    curves = ctx.result.curves
    if curves is None:
        err = _need(ctx, "elliptic_curves")
        if not problems:
            return [ctx.f("tls.weak-key-exchange", Status.ERROR, err or "curves not tested")]
    elif p.curves is not None:
        outside = [c for c in curves if c not in p.curves]
        if outside:
            problems.append(
                f"curves {', '.join(outside)} accepted; {p.name} allows {', '.join(sorted(p.curves))}"
            )
    if problems:
        return [ctx.f("tls.weak-key-exchange", Status.FAIL, "; ".join(problems))]
    groups = ", ".join(curves or ()) or "none"
    dh_txt = f"; DHE {dh[0]} bits" if dh else ""
    return [ctx.f("tls.weak-key-exchange", Status.PASS, f"curves {groups}{dh_txt}")]


def _cn(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _key_desc(key) -> tuple[str, int | None, str | None]:
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ecdsa", key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", 256, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "ed448", 448, None
    if isinstance(key, dsa.DSAPublicKey):
        return "dsa", key.key_size, None
    return type(key).__name__, None, None


def check_certificates(ctx: _Ctx) -> list[Finding]:
    chains = [c for c in ctx.result.chains if c]
    ids = CERT_CHECKS
    if not chains:
        err = _need(ctx, "certificate_info") or "the server sent no certificate"
        return [ctx.f(i, Status.ERROR, err) for i in ids]
    p, now = ctx.profile, ctx.now
    bad: dict[str, list[str]] = {i: [] for i in ids}
    warn: dict[str, list[str]] = {i: [] for i in ids}
    ok: dict[str, list[str]] = {i: [] for i in ids}
    for chain in chains:
        leaf = chain[0]
        for cert in chain:
            who = "leaf" if cert is leaf else "chain"
            if cert.not_valid_after_utc < now:
                bad["tls.cert-expired"].append(
                    f"{who} {_cn(cert)} expired {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
                )
            if cert.not_valid_before_utc > now:
                bad["tls.cert-not-yet-valid"].append(
                    f"{who} {_cn(cert)} valid only from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
                )
        left = leaf.not_valid_after_utc - now
        if dt.timedelta(0) <= left < dt.timedelta(days=p.expiry_warn_days):
            warn["tls.cert-expiring-soon"].append(f"{_cn(leaf)} expires in {left.days} days")
        ok["tls.cert-expired"].append(f"{_cn(leaf)} valid until {leaf.not_valid_after_utc:%Y-%m-%d}")
        ok["tls.cert-not-yet-valid"].append(f"{_cn(leaf)} valid since {leaf.not_valid_before_utc:%Y-%m-%d}")
        ok["tls.cert-expiring-soon"].append(f"{_cn(leaf)} expires in {left.days} days")

        verdict = verify_chain(chain, ctx.result.target.server_name, ctx.trust, now)
        (ok if verdict.hostname_ok else bad)["tls.cert-hostname"].append(verdict.hostname_detail)
        (ok if verdict.trusted else bad)["tls.cert-untrusted"].append(verdict.trust_detail)
        (ok if verdict.profile_ok else bad)["tls.cert-profile"].append(verdict.profile_detail)

        # Keys: the leaf against the profile, every sent certificate against the minimums.
        for i, cert in enumerate(chain):
            kind, bits, curve = _key_desc(cert.public_key())
            who = "leaf" if i == 0 else f"chain[{i}]"
            if kind == "rsa" and bits is not None and bits < p.rsa_min_bits:
                bad["tls.cert-weak-key"].append(f"{who} {_cn(cert)}: RSA {bits} bits (< {p.rsa_min_bits})")
            elif kind == "dsa":
                bad["tls.cert-weak-key"].append(f"{who} {_cn(cert)}: DSA key")
            elif kind == "ecdsa" and bits is not None and bits < p.ec_min_bits:
                bad["tls.cert-weak-key"].append(
                    f"{who} {_cn(cert)}: EC {curve} {bits} bits (< {p.ec_min_bits})"
                )
            if i == 0:
                if p.cert_key_types is not None and kind not in p.cert_key_types:
                    bad["tls.cert-weak-key"].append(
                        f"leaf key type {kind}; {p.name} allows {', '.join(sorted(p.cert_key_types))}"
                    )
                if kind == "ecdsa" and p.cert_curves is not None and curve not in p.cert_curves:
                    bad["tls.cert-weak-key"].append(
                        f"leaf curve {curve}; {p.name} allows {', '.join(sorted(p.cert_curves))}"
                    )
                ok["tls.cert-weak-key"].append(
                    f"leaf {kind.upper()} {bits} bits{' ' + curve if curve else ''}"
                )

        # Signatures: SHA-1/MD5 anywhere below a self-signed root; the leaf against the profile.
        for i, cert in enumerate(chain):
            self_signed_root = i > 0 and cert.issuer == cert.subject
            if self_signed_root:
                continue
            alg = cert.signature_hash_algorithm
            name = cert.signature_algorithm_oid._name
            if isinstance(alg, (hashes.SHA1, hashes.MD5)) or (alg is None and "md5" in name.lower()):
                who = "leaf" if i == 0 else f"chain[{i}]"
                bad["tls.cert-weak-signature"].append(f"{who} {_cn(cert)} signed with {name}")
        leaf_sig = leaf.signature_algorithm_oid._name
        leaf_hash = leaf.signature_hash_algorithm
        already = isinstance(leaf_hash, (hashes.SHA1, hashes.MD5))
        if p.cert_signatures is not None and leaf_sig not in p.cert_signatures and not already:
            bad["tls.cert-weak-signature"].append(
                f"leaf signed with {leaf_sig}; {p.name} allows {', '.join(sorted(p.cert_signatures))}"
            )
        ok["tls.cert-weak-signature"].append(f"leaf signed with {leaf_sig}")

        lifetime = (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days
        if p.max_cert_lifetime_days and lifetime > p.max_cert_lifetime_days:
            bad["tls.cert-lifetime"].append(
                f"{_cn(leaf)} is valid for {lifetime} days; {p.name} allows at most {p.max_cert_lifetime_days}"
            )
        limit = f" (max {p.max_cert_lifetime_days})" if p.max_cert_lifetime_days else " (no maximum)"
        ok["tls.cert-lifetime"].append(f"{_cn(leaf)} valid for {lifetime} days{limit}")

    out: list[Finding] = []
    for i in ids:
        if bad[i]:
            out.append(ctx.f(i, Status.FAIL, "; ".join(dict.fromkeys(bad[i]))))
        elif warn[i]:
            out.append(ctx.f(i, Status.WARN, "; ".join(dict.fromkeys(warn[i]))))
        else:
            out.append(ctx.f(i, Status.PASS, "; ".join(dict.fromkeys(ok[i]))))
    return out


def check_vulnerabilities(ctx: _Ctx) -> list[Finding]:
    r = ctx.result
    out: list[Finding] = []
    vulns = []
    if r.heartbleed:
        vulns.append("Heartbleed (CVE-2014-0160)")
    if r.ccs_injection:
        vulns.append("OpenSSL CCS injection (CVE-2014-0224)")
    if r.robot in ("VULNERABLE_STRONG_ORACLE", "VULNERABLE_WEAK_ORACLE"):
        vulns.append(f"ROBOT ({r.robot.lower().replace('_', ' ')})")
    unknown = _need(ctx, "heartbleed", "openssl_ccs_injection", "robot")
    if vulns:
        out.append(ctx.f("tls.vulnerable", Status.FAIL, "; ".join(vulns)))
    elif unknown:
        out.append(ctx.f("tls.vulnerable", Status.ERROR, unknown))
    else:
        robot = (r.robot or "unknown").lower().replace("_", " ")
        out.append(ctx.f("tls.vulnerable", Status.PASS, f"no Heartbleed, no CCS injection, ROBOT: {robot}"))

    if r.secure_renegotiation is None:
        out.append(
            ctx.f("tls.insecure-renegotiation", Status.ERROR, _need(ctx, "session_renegotiation") or "")
        )
    elif not r.secure_renegotiation:
        out.append(
            ctx.f("tls.insecure-renegotiation", Status.FAIL, "secure renegotiation (RFC 5746) not supported")
        )
    elif r.client_renegotiation_dos:
        out.append(
            ctx.f(
                "tls.insecure-renegotiation",
                Status.WARN,
                "client-initiated renegotiation accepted repeatedly (DoS vector)",
            )
        )
    else:
        out.append(ctx.f("tls.insecure-renegotiation", Status.PASS, "secure renegotiation supported"))

    if r.compression is None:
        out.append(ctx.f("tls.compression", Status.ERROR, _need(ctx, "tls_compression") or ""))
    else:
        out.append(
            ctx.f(
                "tls.compression",
                Status.FAIL if r.compression else Status.PASS,
                "DEFLATE compression accepted" if r.compression else "compression disabled",
            )
        )

    for cid, value, required, cmd, what in (
        (
            "tls.fallback-scsv",
            r.fallback_scsv,
            ctx.profile.require_fallback_scsv,
            "tls_fallback_scsv",
            "TLS_FALLBACK_SCSV",
        ),
        (
            "tls.extended-master-secret",
            r.extended_master_secret,
            ctx.profile.require_ems,
            "tls_extended_master_secret",
            "Extended Master Secret",
        ),
    ):
        if value is None:
            out.append(ctx.f(cid, Status.ERROR, _need(ctx, cmd) or "not tested"))
        elif value:
            out.append(ctx.f(cid, Status.PASS, f"{what} supported"))
        else:
            out.append(ctx.f(cid, Status.FAIL if required else Status.WARN, f"{what} not supported"))
    return out


def check_client_auth(ctx: _Ctx) -> list[Finding]:
    r = ctx.result
    if r.client_auth == "REQUIRED" and not r.client_cert_sent:
        return [
            ctx.f(
                "tls.client-auth",
                Status.ERROR,
                "server requires a client certificate and none was given; results are incomplete "
                "(pass --client-cert/--client-key)",
            )
        ]
    if r.client_cert_sent:
        # sslyze only detects the requirement when it fails without a certificate.
        return [
            ctx.f("tls.client-auth", Status.PASS, "client certificate presented; scan authenticated (mTLS)")
        ]
    if r.client_auth == "OPTIONAL":
        return [ctx.f("tls.client-auth", Status.PASS, "server requests an optional client certificate")]
    return []


CHECKS: tuple[Callable[[_Ctx], list[Finding]], ...] = (
    check_client_auth,
    check_protocols,
    check_ciphers,
    check_forward_secrecy,
    check_key_exchange,
    check_certificates,
    check_vulnerabilities,
)
_IDS_OF = {
    check_protocols: ("tls.legacy-protocol", "tls.no-tls13"),
    check_ciphers: ("tls.weak-cipher",),
    check_forward_secrecy: ("tls.no-forward-secrecy",),
    check_key_exchange: ("tls.weak-key-exchange",),
    check_client_auth: ("tls.client-auth",),
    check_certificates: CERT_CHECKS,
    check_vulnerabilities: (
        "tls.vulnerable",
        "tls.insecure-renegotiation",
        "tls.compression",
        "tls.fallback-scsv",
        "tls.extended-master-secret",
    ),
}


def evaluate(
    result: TlsScanResult,
    profile: Profile,
    trust: TrustConfig | None = None,
    *,
    side: str = "rest",
    now: dt.datetime | None = None,
) -> list[Finding]:
    """All TLS findings for one scanned endpoint under ``profile``."""
    from rest.errors import BadInput

    ctx = _Ctx(
        result, profile, trust or TrustConfig(), side, now or dt.datetime.now(dt.UTC), result.target.label
    )
    out: list[Finding] = []
    for check in CHECKS:
        try:
            out.extend(check(ctx))
        except BadInput:
            raise
        except Exception as exc:  # a broken check is an error finding, never a crashed scan
            ids = _IDS_OF[check]
            out.extend(ctx.f(i, Status.ERROR, f"check crashed: {type(exc).__name__}: {exc}") for i in ids)
    return out
