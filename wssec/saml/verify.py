"""Verifying SAML 2.0 / 1.1 assertions, bare or inside a samlp:Response.

The result (:class:`~wssec.saml.model.VerifiedAssertion`) is read only from
the element a verified signature covers — the assertion whose own enveloped
signature verified, or an assertion that is a *direct child* of the Response
whose own signature verified — never from a look-alike elsewhere.  Before any
value is read the document's shape is pinned down so that the signature
wrapping variants (XSW1–XSW8 of SAML Raider, pysaml2 CVE-2021-21238,
python3-saml's wrapping vectors) have nowhere to hide the genuine content:

* every ID is unique in the whole document;
* a Response may only hold assertions as direct children, a bare assertion
  none at all; an Assertion anywhere else (Extensions, Status, Object,
  another assertion, ...) is refused (InvalidSignature: what would be read
  is not what is signed, so it is a refusal, exit 1, not unusable input);
* a ds:Signature may only be the direct child of the Response or of one of
  its assertions; a Signature anywhere else is refused;
* one assertion per Response unless ``allow_multiple``;
* text is the full text of each node (comments ignored, text after them
  kept: the CVE-2017-11427 class), and identifier elements (NameID, Issuer,
  Audience) must hold text only.

Then the conditions: NotBefore/NotOnOrAfter (with ``clock_skew``), audience,
recipient, a satisfied SubjectConfirmation (bearer, sender-vouches or
holder-of-key with an X.509 certificate), and an expiry must exist.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from lxml import etree

from wssec.errors import Expired, InvalidSignature, MalformedMessage, PolicyViolation, ReplayDetected
from wssec.keys import CertSource
from wssec.replay import ReplayCache
from wssec.safexml import parse_xml
from wssec.saml import ns
from wssec.saml.dsig import SignatureCheck, check_unique_ids, own_id_attribute, signature_of, verify_enveloped
from wssec.saml.model import VerifiedAssertion
from wssec.saml.times import parse_instant, utc
from wssec.saml.trust import SamlTrust
from wssec.trust import KeyPolicy
from wssec.xsdtime import DEFAULT_CLOCK_SKEW

TrustInput = SamlTrust | CertSource | Iterable[CertSource]

_A2 = ns.q(ns.SAML2_NS, "Assertion")
_A1 = ns.q(ns.SAML1_NS, "Assertion")
_R2 = ns.q(ns.SAMLP2_NS, "Response")
_R1 = ns.q(ns.SAMLP1_NS, "Response")
_SIG = ns.q(ns.DS_NS, "Signature")
_ENCRYPTED = ns.q(ns.SAML2_NS, "EncryptedAssertion")
_METHOD_NAMES = {
    uri: name for table in (ns.CONFIRMATION_METHODS2, ns.CONFIRMATION_METHODS1) for name, uri in table.items()
}


@dataclass(frozen=True)
class _Policy:
    trust: SamlTrust
    audiences: tuple[str, ...] | None
    at: dt.datetime
    recipient: str | None
    in_response_to: str | None
    skew: dt.timedelta
    allow_sha1: bool


def _policy(
    trust: TrustInput,
    audience: str | Sequence[str] | None,
    at: dt.datetime | str | None,
    recipient: str | None,
    in_response_to: str | None,
    clock_skew: float,
    allow_sha1: bool,
    check_pinned_dates: bool,
    key_policy: KeyPolicy | None = None,
) -> _Policy:
    saml_trust = SamlTrust.of(trust, check_pinned_dates=check_pinned_dates, key_policy=key_policy)
    audiences = None if audience is None else ((audience,) if isinstance(audience, str) else tuple(audience))
    return _Policy(
        saml_trust,
        audiences,
        utc(at),
        recipient,
        in_response_to,
        dt.timedelta(seconds=clock_skew),
        allow_sha1,
    )


# ------------------------------------------------------------------ public API


def verify(
    xml: bytes | str | etree._Element,
    *,
    trust: TrustInput,
    audience: str | Sequence[str] | None,
    at: dt.datetime | str | None = None,
    recipient: str | None = None,
    in_response_to: str | None = None,
    allow_multiple: bool = False,
    allow_sha1: bool = False,
    clock_skew: float = DEFAULT_CLOCK_SKEW,
    check_pinned_dates: bool = True,
    replay_cache: ReplayCache | None = None,
    key_policy: KeyPolicy | None = None,
) -> VerifiedAssertion:
    """Verify a bare Assertion or a samlp:Response; return the assertion as signed.

    **See what is signed**: use only the returned object (or its
    ``element``), never values read from the input yourself — the input may
    hold other, unsigned look-alikes.  **Establish trust**: ``trust`` is CA
    certificates and/or pinned signer certificates (a list, a PEM bundle or
    a :class:`SamlTrust`); a signature by any other key is refused.
    ``audience`` is the audience(s) you accept (``None`` skips the check:
    only for tooling, a relying party must pass its entity id).  ``at``
    defaults to now.  With ``allow_multiple`` a Response may carry several
    assertions (all must verify); the first is returned, see
    :func:`verify_all`.  SHA-1 signatures are refused unless ``allow_sha1``.
    With a ``replay_cache`` (``wssec.replay.MemoryReplayCache`` or a shared
    store) each assertion is accepted once (ReplayDetected afterwards): the
    Web SSO profile's one-time use of bearer assertions.

    ``key_policy`` (:class:`wssec.trust.KeyPolicy`, default: RSA >= 2048,
    EC P-256/384/521, signing keyUsage/EKU) is what every signer key and
    certificate must meet; see docs/wssec-saml.md "Trust policy".

    Raises MalformedMessage, InvalidSignature, UntrustedKey, Expired or
    PolicyViolation (all ``wssec.errors``).
    """
    return verify_all(
        xml,
        trust=trust,
        audience=audience,
        at=at,
        recipient=recipient,
        in_response_to=in_response_to,
        allow_multiple=allow_multiple,
        allow_sha1=allow_sha1,
        clock_skew=clock_skew,
        check_pinned_dates=check_pinned_dates,
        replay_cache=replay_cache,
        key_policy=key_policy,
    )[0]


def verify_all(
    xml: bytes | str | etree._Element,
    *,
    trust: TrustInput,
    audience: str | Sequence[str] | None,
    at: dt.datetime | str | None = None,
    recipient: str | None = None,
    in_response_to: str | None = None,
    allow_multiple: bool = False,
    allow_sha1: bool = False,
    clock_skew: float = DEFAULT_CLOCK_SKEW,
    check_pinned_dates: bool = True,
    replay_cache: ReplayCache | None = None,
    key_policy: KeyPolicy | None = None,
) -> tuple[VerifiedAssertion, ...]:
    """Like :func:`verify` but returns every assertion (several only with ``allow_multiple``)."""
    policy = _policy(
        trust,
        audience,
        at,
        recipient,
        in_response_to,
        clock_skew,
        allow_sha1,
        check_pinned_dates,
        key_policy,
    )
    root = xml if isinstance(xml, etree._Element) else parse_xml(xml, what="SAML message")
    if root.tag in (_A2, _A1):
        results: tuple[VerifiedAssertion, ...] = (
            _verify_assertion(root, policy, response=None, response_check=None),
        )
    elif root.tag in (_R2, _R1):
        results = _verify_response(root, policy, allow_multiple=allow_multiple)
    else:
        raise MalformedMessage(
            f"not a SAML Assertion or Response: root element is {etree.QName(root).localname}"
        )
    if replay_cache is not None:
        for r in results:
            # remembered for as long as the assertion could still be accepted
            expires = (r.not_on_or_after or policy.at) + policy.skew
            if not replay_cache.check_and_store(f"saml:{r.issuer}:{r.assertion_id}", expires):
                raise ReplayDetected(f"assertion {r.assertion_id!r} from {r.issuer!r} was already used")
    return results


def verify_element(
    assertion: etree._Element,
    *,
    trust: TrustInput,
    audience: str | Sequence[str] | None,
    at: dt.datetime | str | None = None,
    recipient: str | None = None,
    allow_sha1: bool = False,
    clock_skew: float = DEFAULT_CLOCK_SKEW,
    check_pinned_dates: bool = True,
    key_policy: KeyPolicy | None = None,
) -> VerifiedAssertion:
    """Verify an Assertion element in place (e.g. found in a WS-Security header).

    The element must carry its own enveloped signature; IDs are checked for
    uniqueness across the *whole* document it belongs to, and the result's
    ``element`` is ``assertion`` itself (node identity), so a caller can
    check that its message signature covers exactly this node.
    """
    if assertion.tag not in (_A2, _A1):
        raise MalformedMessage(f"not a SAML assertion: {etree.QName(assertion).localname}")
    policy = _policy(
        trust, audience, at, recipient, None, clock_skew, allow_sha1, check_pinned_dates, key_policy
    )
    return _verify_assertion(assertion, policy, response=None, response_check=None)


# ------------------------------------------------------------------ structure


def _where(el: etree._Element) -> str:
    return el.getroottree().getpath(el)


def _check_assertion_shape(assertion: etree._Element) -> None:
    """No assertion, encrypted assertion or stray Signature inside an assertion."""
    own_sig = signature_of(assertion)
    for el in assertion.iter(_A2, _A1, _ENCRYPTED, _SIG):
        if el is assertion or el is own_sig:
            continue
        what = etree.QName(el).localname
        raise InvalidSignature(
            f"{what} nested inside an assertion at {_where(el)} (signature wrapping refused)"
        )


def _verify_response(
    root: etree._Element, policy: _Policy, *, allow_multiple: bool
) -> tuple[VerifiedAssertion, ...]:
    check_unique_ids(root)
    id_attr = own_id_attribute(root)
    if not root.get(id_attr):
        raise MalformedMessage(f"Response has no {id_attr} attribute")
    v2 = root.tag == _R2
    if v2 and root.get("Version") != "2.0":
        raise PolicyViolation(f"unsupported SAML Response version {root.get('Version')!r}")
    if not v2 and (root.get("MajorVersion"), root.get("MinorVersion")) != ("1", "1"):
        raise PolicyViolation("unsupported SAML 1.x Response version (1.1 required)")
    assertions: list[etree._Element] = []
    for el in root.iter(_A2, _A1, _ENCRYPTED):
        if el.tag == _ENCRYPTED:
            raise PolicyViolation("encrypted assertions are not supported (decrypt first)")
        if el.getparent() is not root:
            raise InvalidSignature(
                f"Assertion at {_where(el)} is not a direct child of the Response (wrapping refused)"
            )
        if (el.tag == _A2) != v2:
            raise MalformedMessage("assertion version differs from the Response version")
        assertions.append(el)
    for sig in root.iter(_SIG):
        parent = sig.getparent()
        if parent is not root and parent not in assertions:
            raise InvalidSignature(
                f"Signature at {_where(sig)} signs neither the Response nor an assertion (wrapping refused)"
            )
    if not assertions:
        raise PolicyViolation("the Response contains no assertion")
    if len(assertions) > 1 and not allow_multiple:
        raise PolicyViolation(f"the Response contains {len(assertions)} assertions; exactly 1 is accepted")
    _check_status(root, v2)
    response_check = None
    response_trust: SamlTrust | None = None
    if signature_of(root) is not None:
        # The (claimed) Issuer selects whose keys may verify; after
        # verification every assertion's signed Issuer must be that entity.
        response_trust = policy.trust.for_issuer(_claimed_response_issuer(root, assertions, v2))
        response_check = verify_enveloped(
            root, trust=response_trust, at=policy.at, allow_sha1=policy.allow_sha1
        )
    destination = root.get("Destination") if v2 else root.get("Recipient")
    if policy.recipient is not None and destination is not None and destination != policy.recipient:
        raise PolicyViolation(f"Response Destination {destination!r} is not {policy.recipient!r}")
    if policy.recipient is not None and not v2 and (destination is None or response_check is None):
        # SAML 1.1 assertions carry no recipient; only a signed Response@Recipient can say it.
        raise PolicyViolation("SAML 1.1: recipient can only be checked on a signed Response with a Recipient")
    if v2 and policy.in_response_to is not None and root.get("InResponseTo") != policy.in_response_to:
        raise PolicyViolation("Response InResponseTo does not match the request")
    results = tuple(
        _verify_assertion(
            a, policy, response=root, response_check=response_check, response_trust=response_trust
        )
        for a in assertions
    )
    if v2:
        issuers = root.findall(ns.q(ns.SAML2_NS, "Issuer"))
        if len(issuers) > 1:
            raise MalformedMessage("Response has several Issuer elements")
        if issuers:
            resp_issuer = _text_only(issuers[0], "Response Issuer").strip()
            for r in results:
                if resp_issuer != r.issuer:
                    raise PolicyViolation(
                        f"Response Issuer {resp_issuer!r} differs from assertion Issuer {r.issuer!r}"
                    )
    return results


def _check_status(root: etree._Element, v2: bool) -> None:
    pns = ns.SAMLP2_NS if v2 else ns.SAMLP1_NS
    codes = root.findall(f"{{{pns}}}Status/{{{pns}}}StatusCode")
    if len(codes) != 1:
        raise PolicyViolation("Response has no (single) Status/StatusCode")
    value = codes[0].get("Value") or ""
    ok = value == ns.STATUS_SUCCESS2 if v2 else value.rpartition(":")[2] == "Success"
    if not ok:
        raise PolicyViolation(f"Response status is {value!r}, not Success")


def _verify_assertion(
    assertion: etree._Element,
    policy: _Policy,
    *,
    response: etree._Element | None,
    response_check: SignatureCheck | None,
    response_trust: SamlTrust | None = None,
) -> VerifiedAssertion:
    _check_assertion_shape(assertion)
    own: SignatureCheck | None = None
    own_trust: SamlTrust | None = None
    if signature_of(assertion) is not None:
        own_trust = policy.trust.for_issuer(_claimed_issuer(assertion))
        own = verify_enveloped(assertion, trust=own_trust, at=policy.at, allow_sha1=policy.allow_sha1)
    elif response_check is None or assertion.getparent() is not response:
        what = (
            "neither the assertion nor the Response is signed"
            if response is not None
            else "assertion is not signed"
        )
        raise InvalidSignature(f"unsigned: {what}")
    check = own or response_check
    assert check is not None
    signed_by = "both" if own and response_check else ("assertion" if own else "response")
    reader = _read2 if assertion.tag == _A2 else _read1
    result = reader(
        assertion,
        policy,
        signer=check.trust.certificate,
        signed_by=signed_by,
        response_id=response.get(own_id_attribute(response)) if response is not None else None,
    )
    policy.trust.check_issuer(result.issuer)
    for used in (own_trust, response_trust if response_check is not None else None):
        if used is not None:  # the entity whose key verified is the signed Issuer
            used.check_issuer(result.issuer)
    return result


def _claimed_issuer(assertion: etree._Element) -> str:
    """The Issuer an assertion claims, read *before* its signature is checked:
    used only to select which entity's keys may verify it (then checked
    against the signed value)."""
    if assertion.tag == _A1:
        return (assertion.get("Issuer") or "").strip()
    issuers = assertion.findall(ns.q(ns.SAML2_NS, "Issuer"))
    if len(issuers) != 1:
        raise MalformedMessage("Assertion must have exactly one Issuer")
    return _text_only(issuers[0], "Issuer").strip()


def _claimed_response_issuer(root: etree._Element, assertions: list[etree._Element], v2: bool) -> str:
    """The Response's own Issuer, else the one Issuer all its assertions claim."""
    if v2:
        issuers = root.findall(ns.q(ns.SAML2_NS, "Issuer"))
        if len(issuers) > 1:
            raise MalformedMessage("Response has several Issuer elements")
        if issuers:
            return _text_only(issuers[0], "Response Issuer").strip()
    claimed = {_claimed_issuer(a) for a in assertions}
    if len(claimed) != 1:
        raise PolicyViolation("the Response's assertions name different Issuers and the Response none")
    return claimed.pop()


# ------------------------------------------------------------------ text


def _text_only(el: etree._Element, what: str) -> str:
    """Full text of an identifier element: text split by comments is joined;
    child elements are refused (NameID/Issuer/Audience are simple content)."""
    for child in el:
        if isinstance(child.tag, str):
            raise MalformedMessage(
                f"{what} must contain text only, found element {etree.QName(child).localname}"
            )
    return "".join(el.itertext())


def _value_text(el: etree._Element) -> str:
    """Full text of an AttributeValue (comments ignored, text after them kept)."""
    return "".join(el.itertext())


def _one_child(
    parent: etree._Element, tag: str, what: str, *, required: bool = True
) -> etree._Element | None:
    found = parent.findall(tag)
    if len(found) > 1:
        raise MalformedMessage(f"{what}: several {etree.QName(tag).localname} elements")
    if not found:
        if required:
            raise PolicyViolation(f"{what}: missing {etree.QName(tag).localname}")
        return None
    return found[0]


def _instant(el: etree._Element, attr: str, what: str) -> dt.datetime | None:
    value = el.get(attr)
    return parse_instant(value, f"{what}/@{attr}") if value is not None else None


def _keyinfo_cert(parent: etree._Element) -> x509.Certificate | None:
    el = parent.find(f"{{{ns.DS_NS}}}KeyInfo/{{{ns.DS_NS}}}X509Data/{{{ns.DS_NS}}}X509Certificate")
    if el is None:
        return None
    try:
        return x509.load_der_x509_certificate(
            base64.b64decode("".join("".join(el.itertext()).split()), validate=True)
        )
    except (binascii.Error, ValueError):
        raise MalformedMessage("holder-of-key KeyInfo holds an unreadable certificate") from None


# ------------------------------------------------------------------ conditions


def _check_window(
    policy: _Policy, not_before: dt.datetime | None, not_on_or_after: dt.datetime | None, what: str
) -> None:
    if not_before is not None and policy.at + policy.skew < not_before:
        raise Expired(f"{what} not yet valid (NotBefore {not_before.isoformat()})")
    if not_on_or_after is not None and policy.at - policy.skew >= not_on_or_after:
        raise Expired(f"{what} expired (NotOnOrAfter {not_on_or_after.isoformat()})")


def _conditions(
    a: etree._Element, S: str, policy: _Policy, *, audience_tag: str, harmless: tuple[str, ...]
) -> tuple[dt.datetime | None, dt.datetime | None, list[list[str]], str | None]:
    """Read and enforce an assertion's Conditions (SAML 2.0 and 1.1 differ only in
    tag names): the validity window, the audience restrictions, and no condition
    the verifier does not understand (unknown conditions are refused, not ignored).
    Returns the window, every restriction's audiences, and the matched audience."""
    conditions = _one_child(a, ns.q(S, "Conditions"), "Assertion", required=False)
    not_before = not_on_or_after = None
    restrictions: list[list[str]] = []
    if conditions is not None:
        not_before = _instant(conditions, "NotBefore", "Conditions")
        not_on_or_after = _instant(conditions, "NotOnOrAfter", "Conditions")
        _check_window(policy, not_before, not_on_or_after, "assertion")
        for cond in conditions:
            if not isinstance(cond.tag, str):
                continue
            if cond.tag == ns.q(S, audience_tag):
                listed = [_text_only(x, "Audience").strip() for x in cond.findall(ns.q(S, "Audience"))]
                if not listed:
                    raise MalformedMessage(f"{audience_tag} without Audience")
                restrictions.append(listed)
            elif cond.tag in tuple(ns.q(S, h) for h in harmless):
                continue
            else:
                raise PolicyViolation(
                    f"unsupported condition {etree.QName(cond).localname} (refused, not ignored)"
                )
    return not_before, not_on_or_after, restrictions, _check_audiences(policy, restrictions)


def _check_audiences(policy: _Policy, restrictions: list[list[str]]) -> str | None:
    """Each restriction must contain one accepted audience; returns the matched one."""
    all_listed = [a for r in restrictions for a in r]
    if policy.audiences is None:
        if all_listed:
            # Fail closed (as RFC 7519 does for a JWT's aud): an assertion restricted to
            # some audience is not for a relying party that cannot say who it is.
            raise PolicyViolation(
                f"assertion is restricted to audience {all_listed[0]!r}; "
                "pass audience= (the relying party's entity id) to accept it"
            )
        return None
    if not restrictions:
        raise PolicyViolation(
            f"assertion has no AudienceRestriction (audience {policy.audiences[0]!r} required)"
        )
    matched = None
    for listed in restrictions:
        hits = [a for a in listed if a in policy.audiences]
        if not hits:
            raise PolicyViolation(
                f"wrong audience: assertion is for {listed}, accepted {list(policy.audiences)}"
            )
        matched = matched or hits[0]
    return matched


@dataclass
class _Confirmation:
    method: str
    cert: x509.Certificate | None = None
    not_on_or_after: dt.datetime | None = None
    recipient: str | None = None
    in_response_to: str | None = None


def _pick_confirmation(policy: _Policy, candidates: list[_Confirmation | Exception]) -> _Confirmation:
    for c in candidates:
        if isinstance(c, _Confirmation):
            return c
    errors = [c for c in candidates if isinstance(c, Exception)]
    if not errors:
        raise PolicyViolation("assertion has no SubjectConfirmation")
    raise errors[0]


# ------------------------------------------------------------------ SAML 2.0


def _confirmation2(sc: etree._Element, policy: _Policy) -> _Confirmation:
    method = _METHOD_NAMES.get(sc.get("Method") or "")
    if (
        method is None
        or method not in ns.CONFIRMATION_METHODS2
        or ns.CONFIRMATION_METHODS2[method] != sc.get("Method")
    ):
        raise PolicyViolation(f"unsupported SubjectConfirmation method {sc.get('Method')!r}")
    conf = _Confirmation(method)
    scd = _one_child(sc, ns.q(ns.SAML2_NS, "SubjectConfirmationData"), "SubjectConfirmation", required=False)
    if scd is not None:
        nb = _instant(scd, "NotBefore", "SubjectConfirmationData")
        conf.not_on_or_after = _instant(scd, "NotOnOrAfter", "SubjectConfirmationData")
        _check_window(policy, nb, conf.not_on_or_after, "SubjectConfirmationData")
        conf.recipient = scd.get("Recipient")
        conf.in_response_to = scd.get("InResponseTo")
        if method == "holder-of-key":
            conf.cert = _keyinfo_cert(scd)
    if policy.recipient is not None:
        if conf.recipient != policy.recipient and (method == "bearer" or conf.recipient is not None):
            raise PolicyViolation(f"wrong recipient: {conf.recipient!r}, expected {policy.recipient!r}")
    if policy.in_response_to is not None and conf.in_response_to != policy.in_response_to:
        # bearer (Web SSO) must name the request; other methods only if they name one
        if method == "bearer" or conf.in_response_to is not None:
            raise PolicyViolation("SubjectConfirmationData InResponseTo does not match the request")
    if method == "holder-of-key" and conf.cert is None:
        raise PolicyViolation("holder-of-key confirmation without an X.509 certificate in KeyInfo")
    return conf


def _read2(
    a: etree._Element, policy: _Policy, *, signer: x509.Certificate, signed_by: str, response_id: str | None
) -> VerifiedAssertion:
    S = ns.SAML2_NS  # noqa: N806
    if a.get("Version") != "2.0":
        raise PolicyViolation(f"unsupported SAML assertion version {a.get('Version')!r}")
    assertion_id = a.get("ID") or ""
    issue_instant = _instant(a, "IssueInstant", "Assertion")
    if issue_instant is None:
        raise MalformedMessage("Assertion has no IssueInstant")
    if issue_instant > policy.at + policy.skew:
        raise Expired(f"assertion issued in the future ({issue_instant.isoformat()})")
    issuer_el = _one_child(a, ns.q(S, "Issuer"), "Assertion")
    issuer = _text_only(issuer_el, "Issuer").strip()  # type: ignore[arg-type]
    if not issuer:
        raise PolicyViolation("assertion Issuer is empty")
    subject_el = _one_child(a, ns.q(S, "Subject"), "Assertion")
    assert subject_el is not None
    if subject_el.find(ns.q(S, "EncryptedID")) is not None or subject_el.find(ns.q(S, "BaseID")) is not None:
        raise PolicyViolation("encrypted or abstract (BaseID) subject identifiers are not supported")
    name_id = _one_child(subject_el, ns.q(S, "NameID"), "Subject")
    assert name_id is not None
    subject = _text_only(name_id, "NameID").strip()
    if not subject:
        raise PolicyViolation("NameID is empty")
    spnq = name_id.get("SPNameQualifier")
    if spnq is not None and policy.audiences is not None and spnq not in policy.audiences:
        raise PolicyViolation(f"NameID SPNameQualifier {spnq!r} is not an accepted audience")

    not_before, not_on_or_after, restrictions, audience = _conditions(
        a, S, policy, audience_tag="AudienceRestriction", harmless=("OneTimeUse", "ProxyRestriction")
    )

    candidates: list[_Confirmation | Exception] = []
    for sc in subject_el.findall(ns.q(S, "SubjectConfirmation")):
        try:
            candidates.append(_confirmation2(sc, policy))
        except (PolicyViolation, Expired, MalformedMessage) as exc:
            candidates.append(exc)
    conf = _pick_confirmation(policy, candidates)
    expiry = min((t for t in (not_on_or_after, conf.not_on_or_after) if t is not None), default=None)
    if expiry is None:
        raise PolicyViolation(
            "assertion has no expiry (no NotOnOrAfter in Conditions or SubjectConfirmationData)"
        )

    authn_instant = authn_context = session_index = None
    authn = a.find(ns.q(S, "AuthnStatement"))
    if authn is not None:
        authn_instant = _instant(authn, "AuthnInstant", "AuthnStatement")
        session_index = authn.get("SessionIndex")
        session_end = _instant(authn, "SessionNotOnOrAfter", "AuthnStatement")
        _check_window(policy, None, session_end, "authentication session")
        ref = authn.find(f"{{{S}}}AuthnContext/{{{S}}}AuthnContextClassRef")
        authn_context = _text_only(ref, "AuthnContextClassRef").strip() if ref is not None else None

    attributes: dict[str, list[str]] = {}
    for statement in a.findall(ns.q(S, "AttributeStatement")):
        if statement.find(ns.q(S, "EncryptedAttribute")) is not None:
            raise PolicyViolation("encrypted attributes are not supported")
        for attr in statement.findall(ns.q(S, "Attribute")):
            name = attr.get("Name")
            if not name:
                raise MalformedMessage("Attribute without Name")
            if name in attributes:
                raise PolicyViolation(f"duplicated Attribute Name {name!r}")
            values = []
            for v in attr.findall(ns.q(S, "AttributeValue")):
                if v.get(ns.q(ns.XSI_NS, "nil")) in ("true", "1"):
                    continue
                values.append(_value_text(v))
            attributes[name] = values

    return VerifiedAssertion(
        subject=subject,
        issuer=issuer,
        audiences=tuple(x for r in restrictions for x in r),
        attributes=attributes,
        confirmation=conf.method,
        confirmation_certificate=conf.cert,
        not_before=not_before,
        not_on_or_after=expiry,
        assertion_id=assertion_id,
        version="2.0",
        element=a,
        signer_certificate=signer,
        signed_by=signed_by,
        subject_format=name_id.get("Format"),
        audience=audience,
        issue_instant=issue_instant,
        authn_instant=authn_instant,
        authn_context=authn_context,
        session_index=session_index,
        recipient=conf.recipient,
        in_response_to=conf.in_response_to,
        response_id=response_id,
    )


# ------------------------------------------------------------------ SAML 1.1

_STATEMENTS1 = (
    "AuthenticationStatement",
    "AttributeStatement",
    "AuthorizationDecisionStatement",
    "SubjectStatement",
)


def _read1(
    a: etree._Element, policy: _Policy, *, signer: x509.Certificate, signed_by: str, response_id: str | None
) -> VerifiedAssertion:
    S = ns.SAML1_NS  # noqa: N806
    if (a.get("MajorVersion"), a.get("MinorVersion")) != ("1", "1"):
        raise PolicyViolation("unsupported SAML 1.x assertion version (1.1 required)")
    issuer = (a.get("Issuer") or "").strip()
    if not issuer:
        raise PolicyViolation("assertion Issuer is empty")
    issue_instant = _instant(a, "IssueInstant", "Assertion")
    if issue_instant is None:
        raise MalformedMessage("Assertion has no IssueInstant")
    if issue_instant > policy.at + policy.skew:
        raise Expired(f"assertion issued in the future ({issue_instant.isoformat()})")

    not_before, not_on_or_after, restrictions, audience = _conditions(
        a, S, policy, audience_tag="AudienceRestrictionCondition", harmless=("DoNotCacheCondition",)
    )
    if not_on_or_after is None:
        raise PolicyViolation("assertion has no expiry (no Conditions/@NotOnOrAfter)")
    if policy.recipient is not None and response_id is None:
        raise PolicyViolation("a SAML 1.1 assertion carries no recipient; cannot check it")

    subjects: list[etree._Element] = []
    for local in _STATEMENTS1:
        for st in a.findall(ns.q(S, local)):
            subjects.append(_one_child(st, ns.q(S, "Subject"), local))  # type: ignore[arg-type]
    if not subjects:
        raise PolicyViolation("assertion has no statement with a Subject")
    names = set()
    subject_format = None
    candidates: list[_Confirmation | Exception] = []
    for subj in subjects:
        nid = _one_child(subj, ns.q(S, "NameIdentifier"), "Subject")
        assert nid is not None
        names.add(_text_only(nid, "NameIdentifier").strip())
        subject_format = subject_format or nid.get("Format")
    if len(names) != 1 or "" in names:
        raise PolicyViolation("statements name different (or empty) subjects")
    for sc in subjects[0].findall(ns.q(S, "SubjectConfirmation")):
        try:
            methods = [
                _text_only(m, "ConfirmationMethod").strip() for m in sc.findall(ns.q(S, "ConfirmationMethod"))
            ]
            chosen = next((_METHOD_NAMES[m] for m in methods if m in ns.CONFIRMATION_METHODS1.values()), None)
            if chosen is None:
                raise PolicyViolation(f"unsupported ConfirmationMethod {methods}")
            conf = _Confirmation(chosen)
            if chosen == "holder-of-key":
                conf.cert = _keyinfo_cert(sc)
                if conf.cert is None:
                    raise PolicyViolation(
                        "holder-of-key confirmation without an X.509 certificate in KeyInfo"
                    )
            candidates.append(conf)
        except (PolicyViolation, MalformedMessage) as exc:
            candidates.append(exc)
    conf = _pick_confirmation(policy, candidates)

    attributes: dict[str, list[str]] = {}
    for statement in a.findall(ns.q(S, "AttributeStatement")):
        for attr in statement.findall(ns.q(S, "Attribute")):
            name = attr.get("AttributeName")
            if not name:
                raise MalformedMessage("Attribute without AttributeName")
            if name in attributes:
                raise PolicyViolation(f"duplicated Attribute Name {name!r}")
            attributes[name] = [_value_text(v) for v in attr.findall(ns.q(S, "AttributeValue"))]
    authn = a.find(ns.q(S, "AuthenticationStatement"))
    return VerifiedAssertion(
        subject=names.pop(),
        issuer=issuer,
        audiences=tuple(x for r in restrictions for x in r),
        attributes=attributes,
        confirmation=conf.method,
        confirmation_certificate=conf.cert,
        not_before=not_before,
        not_on_or_after=not_on_or_after,
        assertion_id=a.get("AssertionID") or "",
        version="1.1",
        element=a,
        signer_certificate=signer,
        signed_by=signed_by,
        subject_format=subject_format,
        audience=audience,
        issue_instant=issue_instant,
        authn_instant=_instant(authn, "AuthenticationInstant", "AuthenticationStatement")
        if authn is not None
        else None,
        authn_context=authn.get("AuthenticationMethod") if authn is not None else None,
        response_id=response_id,
    )


__all__ = ["verify", "verify_all", "verify_element"]
