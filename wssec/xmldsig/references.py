"""One Reference and Transforms checker for every XML-DSig signature apisec
verifies (WS-Security messages and SAML Responses/Assertions), and the one
digest of what a Reference covers.

A Reference is read by one set of rules: ``Transforms?, DigestMethod,
DigestValue`` in that order and nothing else (XML-DSig's schema); every
transform a ``ds:Transform`` whose Algorithm is on the profile's list of
accepted *chains*; the enveloped-signature transform without parameters;
the digest method from the one algorithm table, SHA-1 only when allowed.
What differs between the two paths is data, a :class:`ReferenceRules`:
which transform chains each accepts and which error a refusal raises
(WS-Security: :class:`PolicyViolation`/:class:`MalformedMessage`; SAML:
:class:`InvalidSignature` for everything, as its callers expect).

Where a Reference points (``#id`` resolution, "the target's own ID") stays
with each path: that is how each defends against signature wrapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from lxml import etree

from wssec import dsig
from wssec.errors import InvalidSignature, MalformedMessage, PolicyViolation, WssecError
from wssec.xmldsig.algorithms import DS, ENVELOPED, EXC_C14N, EXC_C14N_COMMENTS, STR_TRANSFORM

_TRANSFORMS = f"{{{DS}}}Transforms"
_TRANSFORM = f"{{{DS}}}Transform"
_DIGEST_METHOD = f"{{{DS}}}DigestMethod"
_DIGEST_VALUE = f"{{{DS}}}DigestValue"


@dataclass(frozen=True)
class ReferenceRules:
    """What one signature profile accepts in a Reference."""

    chains: frozenset[tuple[str, ...]]
    """The accepted sequences of transform Algorithm URIs."""
    describe: str
    """How a refusal names the accepted chains."""
    refused: type[WssecError] = PolicyViolation
    """Raised for a transform or digest algorithm the profile does not accept."""
    malformed: type[WssecError] = MalformedMessage
    """Raised for a Reference that is not shaped as XML-DSig says."""


#: WS-Security (WS-I BSP R5412/R5423): exc-c14n, optionally preceded by
#: enveloped-signature (what node-soap/xml-crypto send on every Reference).
WSS_RULES = ReferenceRules(
    chains=frozenset(
        {(EXC_C14N,), (EXC_C14N_COMMENTS,), (ENVELOPED, EXC_C14N), (ENVELOPED, EXC_C14N_COMMENTS)}
    ),
    describe="exc-c14n, optionally preceded by enveloped-signature (BSP R5412/R5423)",
)

#: WS-Security with ``strict_transforms``: exactly one exc-c14n transform.
WSS_STRICT_RULES = ReferenceRules(
    chains=frozenset({(EXC_C14N,), (EXC_C14N_COMMENTS,)}),
    describe="exactly one exc-c14n transform (strict_transforms)",
)

#: SAML enveloped signatures (SAML 2.0 core 5.4.4): enveloped-signature,
#: then exc-c14n (or nothing: inclusive c14n 1.0 is XML-DSig's default).
SAML_RULES = ReferenceRules(
    chains=frozenset({(ENVELOPED,), (ENVELOPED, EXC_C14N)}),
    describe="enveloped-signature then exc-c14n only",
    refused=InvalidSignature,
    malformed=InvalidSignature,
)


class CheckedReference(NamedTuple):
    """A Reference whose shape and algorithms the rules accepted (no digest
    yet).  A named tuple: one is made per Reference of every message."""

    element: etree._Element
    uri: str | None
    transforms: tuple[str, ...]
    prefixes: list[str] | None
    """The InclusiveNamespaces PrefixList of the exc-c14n transform."""
    comments: bool
    """exc-c14n *with* comments (so comments are digested)."""
    enveloped: bool
    """The chain starts with the enveloped-signature transform."""
    exclusive: bool
    """False when the chain leaves a node-set (enveloped-signature alone):
    XML-DSig then canonicalises with inclusive c14n 1.0."""
    digest_name: str
    hashlib_name: str
    expected: bytes
    """The DigestValue."""


def check_reference(ref: etree._Element, rules: ReferenceRules, *, allow_sha1: bool) -> CheckedReference:
    """Check one ds:Reference against ``rules`` (no resolution, no digest)."""
    kids = list(ref.iterchildren(etree.Element))
    tr_el = kids[0] if kids and kids[0].tag == _TRANSFORMS else None
    rest = kids[1:] if tr_el is not None else kids
    if len(rest) != 2 or rest[0].tag != _DIGEST_METHOD or rest[1].tag != _DIGEST_VALUE:
        raise rules.malformed("Reference must hold Transforms, DigestMethod, DigestValue")
    transforms = list(tr_el.iterchildren(etree.Element)) if tr_el is not None else []
    if len(transforms) == 1 and transforms[0].tag == _TRANSFORM:
        algs: tuple[str, ...] = (transforms[0].get("Algorithm") or "",)
    else:
        for t in transforms:
            if t.tag != _TRANSFORM:
                raise rules.malformed("unexpected element in Transforms")
        algs = tuple(t.get("Algorithm") or "" for t in transforms)
    if algs not in rules.chains:
        uri = (ref.get("URI") or "")[:80]
        if STR_TRANSFORM in algs:
            raise rules.refused("STR-Transform references are not supported")
        odd = next((a for a in algs if a not in (EXC_C14N, EXC_C14N_COMMENTS, ENVELOPED)), None)
        if odd is not None:
            raise rules.refused(
                f"disallowed transform {odd[:100]} (XSLT, XPath and other transforms are refused)"
            )
        raise rules.refused(
            f"Reference {uri} transforms must be {rules.describe}; "
            f"has {', '.join(a[-40:] for a in algs) or 'none'}"
        )
    enveloped = algs[0] == ENVELOPED
    if enveloped and len(transforms[0]):
        raise rules.refused("the enveloped-signature transform takes no parameters")
    last = algs[-1]
    exclusive = last != ENVELOPED
    dig_uri = rest[0].get("Algorithm") or ""
    found = dsig.DIGEST_BY_URI.get(dig_uri)
    if found is None:
        raise rules.refused(f"digest algorithm {dig_uri[:100] or '(none)'} is not allowed")
    dig_name, hashlib_name = found
    if dig_name in dsig.WEAK and not allow_sha1:
        raise rules.refused("digest algorithm sha1 is not allowed (SHA-1 only with allow_sha1)")
    try:
        expected = dsig.b64decode(rest[1].text, "DigestValue")
    except MalformedMessage as exc:
        raise rules.malformed(str(exc)) from None
    return CheckedReference(
        ref,
        ref.get("URI"),
        algs,
        dsig.inclusive_prefixes(transforms[-1]) if exclusive else None,
        last == EXC_C14N_COMMENTS,
        enveloped,
        exclusive,
        dig_name,
        hashlib_name,
        expected,
    )


def reference_digest(
    ref: CheckedReference,
    target: etree._Element,
    signature: etree._Element,
    *,
    envelops: bool | None = None,
) -> bytes:
    """The digest of ``target`` after ``ref``'s transforms.  The
    enveloped-signature transform removes ``signature`` when it is inside
    ``target`` (on a copy: the caller's tree is never touched) and is a
    no-op otherwise; ``envelops`` says which, when the caller knows."""
    if envelops is None:
        envelops = ref.enveloped and any(a is target for a in signature.iterancestors())
    if envelops:
        data = dsig.c14n_enveloped(target, signature, ref.prefixes, ref.comments, exclusive=ref.exclusive)
    else:
        data = dsig.c14n(target, ref.prefixes, ref.comments, exclusive=ref.exclusive)
    return dsig.digest(data, ref.hashlib_name)


__all__ = [
    "SAML_RULES",
    "WSS_RULES",
    "WSS_STRICT_RULES",
    "CheckedReference",
    "ReferenceRules",
    "check_reference",
    "reference_digest",
]
