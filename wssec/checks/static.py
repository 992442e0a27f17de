"""Static checks of a WSDL's WS-SecurityPolicy (``apisec soap check --wsdl``).

The WSDL is the service's published contract: if it asks for no signature,
allows SHA-1 or RSA v1.5, or lets a UsernameToken password travel as text,
every conforming client will do exactly that.  Each check reports ``pass``
when the contract is sound, ``fail`` naming the operations (and policy
alternatives) that are not, and ``skip`` when it does not apply.

Policy alternatives: the *requester* chooses one, so a weak alternative is
a weakness even when a strong one exists.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from compare.findings import Finding, Status, finding
from wssec.checks import registry as _registry  # noqa: F401  (registers the ids)
from wssec.checks.fetch import fetch, is_url
from wssec.policy import OperationPolicy, Policy, WsdlPolicy, parse_wsdl_policy
from wssec.safexml import parse_xml


def load_wsdl(path_or_url: str | Path, *, verify: bool | str = True) -> bytes:
    """The WSDL's bytes from a file or an http(s) URL (bounded, with timeout)."""
    s = str(path_or_url)
    if is_url(s):
        return fetch(s, what="WSDL", verify=verify)
    from wssec.checks.fetch import MAX_WSDL_BYTES, FetchError

    p = Path(s)
    if not p.is_file():
        raise FetchError(f"WSDL file not found: {p}")
    with p.open("rb") as fh:
        data = fh.read(MAX_WSDL_BYTES + 1)
    if len(data) > MAX_WSDL_BYTES:
        raise FetchError(f"WSDL {p} is larger than {MAX_WSDL_BYTES} bytes")
    return data


def check_wsdl(path_or_url: str | Path, *, verify: bool | str = True) -> list[Finding]:
    """Run every static check on a WSDL file or URL.

    Raises :class:`wssec.errors.MalformedMessage` (exit 2) when the WSDL
    cannot be fetched or parsed: a check result about a document we could
    not read would be a guess."""
    data = load_wsdl(path_or_url, verify=verify)
    root = parse_xml(data, what="WSDL", max_bytes=len(data) + 1)
    return check_wsdl_policy(parse_wsdl_policy(root), target=str(path_or_url))


def check_wsdl_policy(wp: WsdlPolicy, *, target: str) -> list[Finding]:
    """The static findings for an already parsed :class:`WsdlPolicy`."""
    checks: list[Callable[[WsdlPolicy, str], Finding]] = [
        _no_security_policy,
        _weak_algorithm_suite,
        _no_timestamp,
        _body_not_signed,
        _body_not_encrypted,
        _plaintext_password,
        _http_endpoint,
    ]
    return [c(wp, target) for c in checks]


# ------------------------------------------------------------------ helpers


def _op_name(op: OperationPolicy) -> str:
    return f"{op.port or op.binding}/{op.operation}" if (op.port or op.binding) else op.operation


def _alternatives(wp: WsdlPolicy) -> list[tuple[OperationPolicy, str, int, Policy]]:
    """(operation, direction, alternative index, policy) for every attached alternative."""
    out = []
    for op in wp.operations:
        for direction, alts in (("input", op.input), ("output", op.output)):
            for i, p in enumerate(alts):
                out.append((op, direction, i, p))
    return out


def _secured(wp: WsdlPolicy) -> list[tuple[OperationPolicy, str, int, Policy]]:
    return [a for a in _alternatives(wp) if a[3].has_security]


def _where(items: list[tuple[OperationPolicy, str, int, Policy]], limit: int = 6) -> str:
    names = []
    for op, direction, i, _ in items:
        alt = f" alt {i + 1}" if i else ""
        names.append(f"{_op_name(op)} {direction}{alt}")
    names = list(dict.fromkeys(names))
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _transport_secure(p: Policy, wp: WsdlPolicy) -> bool:
    return (
        p.binding == "transport"
        and p.transport_token is not None
        and p.transport_token.kind == "Https"
        and not any(a.startswith("http://") for a in wp.addresses)
    )


# ------------------------------------------------------------------ the checks


def _no_security_policy(wp: WsdlPolicy, target: str) -> Finding:
    cid = "wssec.no-security-policy"
    if not wp.operations:
        return finding(cid, Status.ERROR, target, "the WSDL defines no binding operations to check")
    bare = [op for op in wp.operations if not any(p.has_security for p in op.input)]
    if bare:
        names = ", ".join(_op_name(op) for op in bare[:8])
        return finding(
            cid,
            Status.FAIL,
            target,
            f"{len(bare)} of {len(wp.operations)} operation(s) have no security policy on the request: {names}",
        )
    partial = [op for op in wp.operations if not all(p.has_security for p in op.input)]
    if partial:
        names = ", ".join(_op_name(op) for op in partial[:8])
        return finding(
            cid,
            Status.FAIL,
            target,
            f"a policy alternative without any security assertion lets requesters opt out: {names}",
        )
    return finding(
        cid, Status.PASS, target, f"every operation ({len(wp.operations)}) has a WS-SecurityPolicy"
    )


def _weak_algorithm_suite(wp: WsdlPolicy, target: str) -> Finding:
    cid = "wssec.weak-algorithm-suite"
    alts = [a for a in _secured(wp) if a[3].algorithm_suite_name]
    if not alts:
        return finding(cid, Status.SKIP, target, "no sp:AlgorithmSuite in any policy")
    weak = [a for a in alts if a[3].weaknesses()]
    unknown = [a for a in alts if a[3].algorithm_suite is None]
    if weak:
        suites = sorted({a[3].algorithm_suite_name or "" for a in weak})
        reasons = sorted({r for a in weak for r in a[3].weaknesses()})
        return finding(
            cid,
            Status.FAIL,
            target,
            f"{', '.join(suites)} ({'; '.join(reasons)}) on {_where(weak)}",
        )
    if unknown:
        suites = sorted({a[3].algorithm_suite_name or "" for a in unknown})
        return finding(cid, Status.WARN, target, f"unrecognised algorithm suite(s): {', '.join(suites)}")
    suites = sorted({a[3].algorithm_suite_name or "" for a in alts})
    return finding(cid, Status.PASS, target, f"algorithm suite(s): {', '.join(suites)}")


def _no_timestamp(wp: WsdlPolicy, target: str) -> Finding:
    cid = "wssec.no-timestamp"
    alts = [a for a in _secured(wp) if a[1] == "input"]
    if not alts:
        return finding(cid, Status.SKIP, target, "no security policy on any request")
    missing = [a for a in alts if not a[3].include_timestamp]
    if missing:
        return finding(cid, Status.FAIL, target, f"no sp:IncludeTimestamp on {_where(missing)}")
    return finding(cid, Status.PASS, target, "every secured request requires a Timestamp")


def _body_not_signed(wp: WsdlPolicy, target: str) -> Finding:
    cid = "wssec.body-not-signed"
    alts = [a for a in _secured(wp) if a[1] == "input"]
    if not alts:
        return finding(cid, Status.SKIP, target, "no security policy on any request")
    bad = [a for a in alts if not a[3].body_signed and not _transport_secure(a[3], wp)]
    if bad:
        return finding(cid, Status.FAIL, target, f"Body not in SignedParts on {_where(bad)}")
    tls = [a for a in alts if not a[3].body_signed]
    note = " (some only through a TLS TransportBinding)" if tls else ""
    return finding(cid, Status.PASS, target, f"every secured request signs the Body{note}")


def _body_not_encrypted(wp: WsdlPolicy, target: str) -> Finding:
    cid = "wssec.body-not-encrypted"
    alts = [a for a in _secured(wp) if a[1] == "input"]
    if not alts:
        return finding(cid, Status.SKIP, target, "no security policy on any request")
    bad = [a for a in alts if not a[3].body_encrypted and not _transport_secure(a[3], wp)]
    if bad:
        return finding(cid, Status.FAIL, target, f"Body not in EncryptedParts on {_where(bad)}")
    return finding(cid, Status.PASS, target, "every secured request encrypts the Body (or uses TLS)")


def _plaintext_password(wp: WsdlPolicy, target: str) -> Finding:
    cid = "wssec.plaintext-password"
    found = []
    bad = []
    for op, direction, i, p in _alternatives(wp):
        for st in p.supporting_tokens:
            if st.token.kind != "Username" or st.token.no_password:
                continue
            found.append((op, direction, i, p))
            encrypted = "Encrypted" in st.category
            if st.token.hash_password or encrypted or _transport_secure(p, wp):
                continue
            bad.append((op, direction, i, p))
    if not found:
        return finding(cid, Status.SKIP, target, "no UsernameToken in any policy")
    if bad:
        return finding(
            cid,
            Status.FAIL,
            target,
            f"UsernameToken without HashPassword, encryption or TLS on {_where(bad)}",
        )
    return finding(cid, Status.PASS, target, "every UsernameToken is hashed, encrypted or sent over TLS")


def _http_endpoint(wp: WsdlPolicy, target: str) -> Finding:
    cid = "wssec.http-endpoint"
    if not wp.addresses:
        return finding(cid, Status.SKIP, target, "no soap:address in the WSDL")
    plain = [a for a in wp.addresses if a.lower().startswith("http://")]
    if plain:
        return finding(cid, Status.FAIL, target, "plain-HTTP address(es): " + ", ".join(plain[:5]))
    return finding(cid, Status.PASS, target, "every soap:address is https://")


__all__ = ["check_wsdl", "check_wsdl_policy", "load_wsdl"]
