"""WS-I Basic Security Profile 1.1 rules for a captured message
(``apisec soap check --message``).

BSP narrows WS-Security to what interoperates and leaves no room for the
ambiguities attackers use: one Timestamp per header, Created before
Expires in UTC, detached signatures whose references all carry
exclusive-C14N transforms, KeyInfo through a SecurityTokenReference, no
Manifest (whose references core validation never checks), no HMAC
truncation, tokens that precede the references to them.  Each rule is its
own finding (``wssec.bsp-rNNNN``) with the rule id in ``references``:
``pass`` when the message honours it, ``fail`` when it breaks it, ``skip``
when the message has nothing the rule speaks about, ``warn`` where the
message is outside BSP 1.1 but *stronger* (AES-GCM, RSA-OAEP with SHA-2 from
XML-Enc 1.1), or inside BSP but weak (rsa-1_5).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from lxml import etree

from compare.findings import Finding, Status, finding
from wssec.checks.registry import BSP_RULE_IDS, bsp_check_id
from wssec.errors import MalformedMessage
from wssec.safexml import parse_xml
from wssec.soap import DS_NS, WSSE_NS, WSU_NS, XENC_NS, envelope_parts
from wssec.xmldsig.algorithms import (
    AES128_CBC,
    AES128_GCM,
    AES192_GCM,
    AES256_CBC,
    AES256_GCM,
    ATT_COMPLETE,
    ATT_CONTENT,
    ENVELOPED,
    EXC_C14N,
    KW_AES128,
    KW_AES192,
    KW_AES256,
    KW_TRIPLEDES,
    RSA_1_5,
    RSA_OAEP_11,
    RSA_OAEP_MGF1P,
    STR_TRANSFORM,
    TRIPLEDES_CBC,
    XPATH_FILTER2,
)

BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
X509_SKI = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509SubjectKeyIdentifier"
)
THUMBPRINT = "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#ThumbprintSHA1"
X509_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0"

LAST_TRANSFORMS = {EXC_C14N, STR_TRANSFORM, ATT_CONTENT, ATT_COMPLETE}
ALLOWED_TRANSFORMS = LAST_TRANSFORMS | {ENVELOPED, XPATH_FILTER2}
BSP_DATA_ALGS = {TRIPLEDES_CBC, AES128_CBC, AES256_CBC}
STRONGER_DATA_ALGS = {AES128_GCM, AES192_GCM, AES256_GCM}
RSA_OAEP = RSA_OAEP_MGF1P
RSA_15 = RSA_1_5
RSA_OAEP11 = RSA_OAEP_11
KEY_WRAPS = {KW_TRIPLEDES, KW_AES128, KW_AES256, KW_AES192}

_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:[0-5]\d:[0-5]\d(\.\d+)?Z$")

Result = tuple[Status, str]


def _q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


class _Msg:
    """The parsed message and the element collections the rules look at."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.version, self.header, self.body = envelope_parts(root)
        self.securities = (
            [c for c in self.header if c.tag == _q(WSSE_NS, "Security")] if self.header is not None else []
        )
        self.order = {el: i for i, el in enumerate(root.iter())}
        self.ids: dict[str, etree._Element] = {}
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            for attr in (_q(WSU_NS, "Id"), "Id", "ID", "AssertionID"):
                v = el.get(attr)
                if v and v not in self.ids:
                    self.ids[v] = el

    def in_security(self, tag: str) -> list[etree._Element]:
        return [el for sec in self.securities for el in sec.iter(tag)]

    def timestamps(self) -> list[etree._Element]:
        return [el for sec in self.securities for el in sec if el.tag == _q(WSU_NS, "Timestamp")]

    def signatures(self) -> list[etree._Element]:
        return [el for sec in self.securities for el in sec if el.tag == _q(DS_NS, "Signature")]

    def refs(self) -> list[etree._Element]:
        return [
            r
            for s in self.signatures()
            for r in s.iterfind(f"{_q(DS_NS, 'SignedInfo')}/{_q(DS_NS, 'Reference')}")
        ]

    def resolve(self, uri: str | None) -> etree._Element | None:
        if uri and uri.startswith("#"):
            return self.ids.get(uri[1:])
        return None


def _children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def _verdict(bad: list[str], total: int, what: str) -> Result:
    if total == 0:
        return Status.NA, f"no {what} in the message"
    if bad:
        shown = "; ".join(bad[:4]) + (f" (+{len(bad) - 4} more)" if len(bad) > 4 else "")
        return Status.FAIL, shown
    return Status.PASS, f"{total} {what} conform"


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


# ------------------------------------------------------------------ Timestamp rules


def r3227(m: _Msg) -> Result:
    if not m.securities:
        return Status.NA, "no wsse:Security header"
    bad = []
    for sec in m.securities:
        n = sum(1 for c in sec if c.tag == _q(WSU_NS, "Timestamp"))
        if n > 1:
            bad.append(f"a Security header holds {n} Timestamps")
    return _verdict(bad, len(m.securities), "Security header(s)")


def _ts_children(ts: etree._Element, local: str) -> list[etree._Element]:
    return [c for c in ts if c.tag == _q(WSU_NS, local)]


def r3203(m: _Msg) -> Result:
    ts = m.timestamps()
    bad = [
        f"Timestamp has {len(_ts_children(t, 'Created'))} Created"
        for t in ts
        if len(_ts_children(t, "Created")) != 1
    ]
    return _verdict(bad, len(ts), "Timestamp(s)")


def r3224(m: _Msg) -> Result:
    ts = m.timestamps()
    bad = [
        f"Timestamp has {len(_ts_children(t, 'Expires'))} Expires"
        for t in ts
        if len(_ts_children(t, "Expires")) > 1
    ]
    return _verdict(bad, len(ts), "Timestamp(s)")


def r3221(m: _Msg) -> Result:
    ts = [t for t in m.timestamps() if _ts_children(t, "Expires")]
    bad = []
    for t in ts:
        kids = _children(t)
        created = _ts_children(t, "Created")
        expires = _ts_children(t, "Expires")[0]
        if not created or kids.index(created[0]) > kids.index(expires):
            bad.append("Expires is not preceded by its sibling Created")
    return _verdict(bad, len(ts), "Timestamp(s) with Expires")


def r3222(m: _Msg) -> Result:
    ts = m.timestamps()
    bad = []
    for t in ts:
        extra = [
            _local(c) for c in _children(t) if c.tag not in (_q(WSU_NS, "Created"), _q(WSU_NS, "Expires"))
        ]
        if extra:
            bad.append("Timestamp holds " + ", ".join(extra))
    return _verdict(bad, len(ts), "Timestamp(s)")


def _utc_rule(local: str) -> Callable[[_Msg], Result]:
    def rule(m: _Msg) -> Result:
        els = [c for t in m.timestamps() for c in _ts_children(t, local)]
        bad = [
            f"{local} {(e.text or '').strip()!r} is not an xsd:dateTime in UTC"
            for e in els
            if not _UTC.match((e.text or "").strip())
        ]
        return _verdict(bad, len(els), f"{local} value(s)")

    return rule


r3217 = _utc_rule("Created")
r3223 = _utc_rule("Expires")

# ------------------------------------------------------------------ Signature rules


def r3102(m: _Msg) -> Result:
    sigs = m.signatures()
    bad = []
    for s in sigs:
        for ref in s.iterfind(f"{_q(DS_NS, 'SignedInfo')}/{_q(DS_NS, 'Reference')}"):
            target = m.resolve(ref.get("URI"))
            if target is not None and any(a is s for a in target.iterancestors()):
                bad.append(f"Reference {ref.get('URI')} points inside its own Signature (enveloping)")
        if s.find(_q(DS_NS, "Object")) is not None and not bad:
            bad.append("Signature carries a ds:Object")
    return _verdict(bad, len(sigs), "Signature(s)")


def r5416(m: _Msg) -> Result:
    refs = m.refs()
    bad = [
        f"Reference {r.get('URI')!r} has no Transforms"
        for r in refs
        if r.find(_q(DS_NS, "Transforms")) is None
    ]
    return _verdict(bad, len(refs), "Reference(s)")


def _transforms(m: _Msg) -> list[etree._Element]:
    return [t for r in m.refs() for t in r.iterfind(_q(DS_NS, "Transforms"))]


def r5411(m: _Msg) -> Result:
    tfs = _transforms(m)
    bad = ["empty Transforms" for t in tfs if t.find(_q(DS_NS, "Transform")) is None]
    return _verdict(bad, len(tfs), "Transforms element(s)")


def r5412(m: _Msg) -> Result:
    tfs = [t for t in _transforms(m) if t.find(_q(DS_NS, "Transform")) is not None]
    bad = []
    for t in tfs:
        last = t.findall(_q(DS_NS, "Transform"))[-1].get("Algorithm")
        if last not in LAST_TRANSFORMS:
            bad.append(f"last Transform is {last}")
    return _verdict(bad, len(tfs), "Transforms element(s)")


def r5423(m: _Msg) -> Result:
    ts = [x for t in _transforms(m) for x in t.findall(_q(DS_NS, "Transform"))]
    bad = [f"Transform {x.get('Algorithm')}" for x in ts if x.get("Algorithm") not in ALLOWED_TRANSFORMS]
    return _verdict(bad, len(ts), "Transform(s)")


def r5404(m: _Msg) -> Result:
    cms = [
        c
        for s in m.signatures()
        for c in s.iterfind(f"{_q(DS_NS, 'SignedInfo')}/{_q(DS_NS, 'CanonicalizationMethod')}")
    ]
    bad = [f"CanonicalizationMethod {c.get('Algorithm')}" for c in cms if c.get("Algorithm") != EXC_C14N]
    return _verdict(bad, len(cms), "CanonicalizationMethod(s)")


def r5403(m: _Msg) -> Result:
    sigs = m.signatures()
    bad = [
        "Signature contains a ds:Manifest"
        for s in sigs
        if next(s.iter(_q(DS_NS, "Manifest")), None) is not None
    ]
    return _verdict(bad, len(sigs), "Signature(s)")


def r5401(m: _Msg) -> Result:
    sms = [
        c
        for s in m.signatures()
        for c in s.iterfind(f"{_q(DS_NS, 'SignedInfo')}/{_q(DS_NS, 'SignatureMethod')}")
    ]
    bad = [
        f"HMACOutputLength={sm.findtext(_q(DS_NS, 'HMACOutputLength'))}"
        for sm in sms
        if sm.find(_q(DS_NS, "HMACOutputLength")) is not None
    ]
    return _verdict(bad, len(sms), "SignatureMethod(s)")


def _sig_keyinfos(m: _Msg) -> list[etree._Element]:
    return [k for s in m.signatures() for k in s.findall(_q(DS_NS, "KeyInfo"))]


def r5402(m: _Msg) -> Result:
    kis = _sig_keyinfos(m)
    bad = [f"KeyInfo has {len(_children(k))} children" for k in kis if len(_children(k)) != 1]
    return _verdict(bad, len(kis), "signature KeyInfo(s)")


def r5417(m: _Msg) -> Result:
    kis = _sig_keyinfos(m)
    bad = [
        "KeyInfo holds " + ", ".join(_local(c) for c in _children(k)) or "nothing"
        for k in kis
        if k.find(_q(WSSE_NS, "SecurityTokenReference")) is None
    ]
    return _verdict(bad, len(kis), "signature KeyInfo(s)")


# ------------------------------------------------------------------ token references


def _strs(m: _Msg) -> list[etree._Element]:
    out = [el for el in m.root.iter(_q(WSSE_NS, "SecurityTokenReference"))]
    return out


def r3061(m: _Msg) -> Result:
    strs = _strs(m)
    bad = [
        f"SecurityTokenReference has {len(_children(s))} references ({', '.join(_local(c) for c in _children(s))})"
        for s in strs
        if len(_children(s)) != 1
    ]
    return _verdict(bad, len(strs), "SecurityTokenReference(s)")


def r5205(m: _Msg) -> Result:
    bad = []
    count = 0
    for s in _strs(m):
        for ref in s.iterfind(_q(WSSE_NS, "Reference")):
            target = m.resolve(ref.get("URI"))
            if target is None or not any(
                target is x or any(a is x for a in target.iterancestors()) for x in m.securities
            ):
                continue
            count += 1
            if m.order[target] > m.order[s]:
                bad.append(f"token {ref.get('URI')} comes after a SecurityTokenReference to it")
    return _verdict(bad, count, "reference(s) to internal tokens")


def r5206(m: _Msg) -> Result:
    kids = [k for s in _strs(m) for k in s.iterfind(_q(WSSE_NS, "KeyIdentifier"))]
    x509 = [
        k
        for k in kids
        if (k.get("ValueType") or "").startswith(X509_PROFILE) or k.get("ValueType") in (X509_SKI, THUMBPRINT)
    ]
    bad = [
        f"KeyIdentifier ValueType {k.get('ValueType')}"
        for k in x509
        if k.get("ValueType") not in (X509_SKI, THUMBPRINT)
    ]
    return _verdict(bad, len(x509), "X.509 KeyIdentifier(s)")


def _bsts(m: _Msg) -> list[etree._Element]:
    return m.in_security(_q(WSSE_NS, "BinarySecurityToken"))


def r3029(m: _Msg) -> Result:
    b = _bsts(m)
    return _verdict(
        ["BinarySecurityToken without EncodingType" for x in b if x.get("EncodingType") is None],
        len(b),
        "BinarySecurityToken(s)",
    )


def r3030(m: _Msg) -> Result:
    b = [x for x in _bsts(m) if x.get("EncodingType") is not None]
    return _verdict(
        [f"EncodingType {x.get('EncodingType')}" for x in b if x.get("EncodingType") != BASE64_BINARY],
        len(b),
        "BinarySecurityToken EncodingType(s)",
    )


def r3031(m: _Msg) -> Result:
    b = _bsts(m)
    return _verdict(
        ["BinarySecurityToken without ValueType" for x in b if not x.get("ValueType")],
        len(b),
        "BinarySecurityToken(s)",
    )


# ------------------------------------------------------------------ UsernameToken


def _uts(m: _Msg) -> list[etree._Element]:
    return m.in_security(_q(WSSE_NS, "UsernameToken"))


def r4201(m: _Msg) -> Result:
    pws = [p for u in _uts(m) for p in u.findall(_q(WSSE_NS, "Password"))]
    return _verdict(["Password without Type" for p in pws if not p.get("Type")], len(pws), "Password(s)")


def _at_most_one(ns: str, local: str) -> Callable[[_Msg], Result]:
    def rule(m: _Msg) -> Result:
        uts = _uts(m)
        bad = [
            f"UsernameToken has {len(u.findall(_q(ns, local)))} {local}"
            for u in uts
            if len(u.findall(_q(ns, local))) > 1
        ]
        return _verdict(bad, len(uts), "UsernameToken(s)")

    return rule


r4222 = _at_most_one(WSSE_NS, "Password")
r4223 = _at_most_one(WSU_NS, "Created")
r4225 = _at_most_one(WSSE_NS, "Nonce")


def _nonces(m: _Msg) -> list[etree._Element]:
    return [n for u in _uts(m) for n in u.findall(_q(WSSE_NS, "Nonce"))]


def r4220(m: _Msg) -> Result:
    ns = _nonces(m)
    return _verdict(
        ["Nonce without EncodingType" for n in ns if n.get("EncodingType") is None], len(ns), "Nonce(s)"
    )


def r4221(m: _Msg) -> Result:
    ns = [n for n in _nonces(m) if n.get("EncodingType") is not None]
    return _verdict(
        [f"Nonce EncodingType {n.get('EncodingType')}" for n in ns if n.get("EncodingType") != BASE64_BINARY],
        len(ns),
        "Nonce EncodingType(s)",
    )


# ------------------------------------------------------------------ encryption


def _eks(m: _Msg) -> list[etree._Element]:
    return list(m.root.iter(_q(XENC_NS, "EncryptedKey")))


def _eds(m: _Msg) -> list[etree._Element]:
    return list(m.root.iter(_q(XENC_NS, "EncryptedData")))


def _alg(el: etree._Element) -> str | None:
    em = el.find(_q(XENC_NS, "EncryptionMethod"))
    return em.get("Algorithm") if em is not None else None


def r5621(m: _Msg) -> Result:
    eks = [e for e in _eks(m) if _alg(e) and _alg(e) not in KEY_WRAPS]
    if not eks:
        return Status.NA, "no key-transport EncryptedKey in the message"
    bad = [f"key transport {_alg(e)}" for e in eks if _alg(e) not in (RSA_OAEP, RSA_15, RSA_OAEP11)]
    if bad:
        return _verdict(bad, len(eks), "EncryptedKey(s)")
    if any(_alg(e) == RSA_15 for e in eks):
        return (
            Status.WARN,
            "rsa-1_5 conforms to BSP 1.1 but is open to Bleichenbacher-style oracles; use rsa-oaep-mgf1p",
        )
    if any(_alg(e) == RSA_OAEP11 for e in eks):
        return (
            Status.WARN,
            "xmlenc11#rsa-oaep is outside BSP 1.1 (stronger, but peers limited to BSP 1.1 may refuse it)",
        )
    return Status.PASS, f"{len(eks)} EncryptedKey(s) use rsa-oaep-mgf1p"


def r5620(m: _Msg) -> Result:
    eds = [e for e in _eds(m) if _alg(e)]
    if not eds:
        return Status.NA, "no EncryptedData with an EncryptionMethod in the message"
    bad = [f"EncryptedData uses {_alg(e)}" for e in eds if _alg(e) not in BSP_DATA_ALGS | STRONGER_DATA_ALGS]
    if bad:
        return _verdict(bad, len(eds), "EncryptedData")
    if any(_alg(e) in STRONGER_DATA_ALGS for e in eds):
        return (
            Status.WARN,
            "AES-GCM is outside BSP 1.1 (stronger than its CBC modes; BSP-1.1-only peers may refuse it)",
        )
    return Status.PASS, f"{len(eds)} EncryptedData use a BSP cipher"


def r5601(m: _Msg) -> Result:
    eds = _eds(m)
    return _verdict(
        ["EncryptedData without EncryptionMethod" for e in eds if _alg(e) is None], len(eds), "EncryptedData"
    )


def r5603(m: _Msg) -> Result:
    eks = _eks(m)
    return _verdict(
        ["EncryptedKey without EncryptionMethod" for e in eks if _alg(e) is None], len(eks), "EncryptedKey(s)"
    )


def r3208(m: _Msg) -> Result:
    bad = []
    count = 0
    for sec in m.securities:
        for ek in sec.iter(_q(XENC_NS, "EncryptedKey")):
            for dr in ek.iterfind(f"{_q(XENC_NS, 'ReferenceList')}/{_q(XENC_NS, 'DataReference')}"):
                ed = m.resolve(dr.get("URI"))
                if ed is None or not any(a is sec for a in ed.iterancestors()):
                    continue
                count += 1
                if m.order[ed] < m.order[ek]:
                    bad.append(f"EncryptedData {dr.get('URI')} precedes its EncryptedKey")
    return _verdict(bad, count, "EncryptedData in the Security header referenced by an EncryptedKey")


def r3228(m: _Msg) -> Result:
    if m.header is None:
        return Status.NA, "no SOAP Header"
    bad = [
        "SOAP Header has a direct EncryptedData child"
        for c in m.header
        if c.tag == _q(XENC_NS, "EncryptedData")
    ]
    if bad:
        return Status.FAIL, bad[0]
    # a rule about where EncryptedData may sit says nothing about a message that
    # encrypts nothing: an empty pass would score as evidence of encryption
    if next(m.root.iter(_q(XENC_NS, "EncryptedData")), None) is None:
        return Status.NA, "nothing is encrypted in the message"
    return Status.PASS, "no EncryptedData directly under the SOAP Header"


def strict_transforms(m: _Msg) -> Result:
    """Not a BSP rule: apisec's strict profile (one exc-c14n transform per
    Reference), the one ``Verifier(strict_transforms=True)`` enforces.  BSP
    R5423 allows the enveloped-signature transform node-soap/xml-crypto put
    on every Reference, so this is a warning, not a failure, for it."""
    refs = m.refs()
    if not refs:
        return Status.NA, "no signature Reference in the message"
    enveloped, other = [], []
    for r in refs:
        algs = [t.get("Algorithm") for t in r.iterfind(f"{_q(DS_NS, 'Transforms')}/{_q(DS_NS, 'Transform')}")]
        if algs == [EXC_C14N]:
            continue
        if algs == [ENVELOPED, EXC_C14N]:
            target = m.resolve(r.get("URI"))
            sig = next(r.iterancestors(_q(DS_NS, "Signature")), None)
            holds = target is not None and any(
                a is target for a in (sig.iterancestors() if sig is not None else ())
            )
            enveloped.append(f"{r.get('URI')} ({'enveloping its Signature' if holds else 'a no-op'})")
        else:
            other.append(
                f"Reference {r.get('URI')!r} has transforms {', '.join(str(a) for a in algs) or 'none'}"
            )
    if other:
        return Status.FAIL, "; ".join(other[:4])
    if enveloped:
        shown = ", ".join(enveloped[:4]) + (f" (+{len(enveloped) - 4} more)" if len(enveloped) > 4 else "")
        return (
            Status.WARN,
            f"enveloped-signature transform before exc-c14n on {shown}: allowed by BSP R5423 and "
            "accepted by default, refused by Verifier(strict_transforms=True)",
        )
    return Status.PASS, f"{len(refs)} Reference(s) carry exactly one exc-c14n transform"


RULES: dict[str, Callable[[_Msg], Result]] = {
    "R3227": r3227,
    "R3203": r3203,
    "R3224": r3224,
    "R3221": r3221,
    "R3222": r3222,
    "R3217": r3217,
    "R3223": r3223,
    "R3102": r3102,
    "R5416": r5416,
    "R5411": r5411,
    "R5412": r5412,
    "R5423": r5423,
    "R5404": r5404,
    "R5403": r5403,
    "R5401": r5401,
    "R5402": r5402,
    "R5417": r5417,
    "R3061": r3061,
    "R5205": r5205,
    "R5206": r5206,
    "R3029": r3029,
    "R3030": r3030,
    "R3031": r3031,
    "R4201": r4201,
    "R4222": r4222,
    "R4223": r4223,
    "R4225": r4225,
    "R4220": r4220,
    "R4221": r4221,
    "R5621": r5621,
    "R5620": r5620,
    "R5601": r5601,
    "R5603": r5603,
    "R3208": r3208,
    "R3228": r3228,
}
assert set(RULES) == set(BSP_RULE_IDS), "every catalogued BSP rule has an implementation"


def check_message(
    data: bytes,
    target: str = "message",
    *,
    rules: Iterable[str] | None = None,
    require_security: bool = True,
) -> list[Finding]:
    """Judge one captured SOAP message against the WS-I BSP 1.1 rules, and
    (in a full run, without ``rules``) against apisec's strict transform
    profile (``wssec.strict-transforms``).

    A message with no wsse:Security header fails ``wssec.no-security-header``
    (high): every rule would skip and the message would read as clean.
    ``require_security=False`` is for an unsigned *template* (the sample
    request the live probes sign): that check is then not applicable.

    Raises :class:`wssec.errors.MalformedMessage` (exit 2) when the bytes
    are not a processable SOAP envelope (not XML, a DOCTYPE, no Body…):
    conformance of something that is not a message cannot be judged."""
    root = parse_xml(data, what="SOAP message")
    try:
        msg = _Msg(root)
    except MalformedMessage as exc:
        return [finding("wssec.bsp-message", Status.FAIL, target, str(exc))]
    wanted = [r.upper() for r in rules] if rules else list(RULES)
    out = [finding("wssec.bsp-message", Status.PASS, target, f"SOAP {msg.version} envelope")]
    # Every BSP rule below is about the Security header; without one they all
    # skip, and a message with no security at all must not read as clean.
    if msg.securities:
        out.append(finding("wssec.no-security-header", Status.PASS, target, "wsse:Security header present"))
    elif not require_security:
        out.append(
            finding("wssec.no-security-header", Status.NA, target, "unsigned template: the probes sign it")
        )
    else:
        out.append(
            finding(
                "wssec.no-security-header", Status.FAIL, target, "the message has no wsse:Security header"
            )
        )
    for rule in wanted:
        fn = RULES.get(rule)
        if fn is None:
            raise ValueError(f"unknown BSP rule {rule}")
        status, evidence = fn(msg)
        out.append(finding(bsp_check_id(rule), status, target, evidence))
    if not rules:  # the strict-profile view is not a BSP rule: only in a full run
        status, evidence = strict_transforms(msg)
        out.append(finding("wssec.strict-transforms", status, target, evidence))
    return out


__all__ = ["RULES", "check_message"]
