"""The per-request shortcuts of token checking keep every rule: the strict
base64url decoder (canonical test by the last character's unused bits), the
key memo of a KeySet and the route memo of an AccessPolicy."""

from __future__ import annotations

import base64
import os

import anyio
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from rest.errors import TokenRejected
from rest.guard import AccessPolicy, Principal
from rest.guard.policy import _ROUTE_MEMO, Rule
from rest.jwt.jose import b64url_decode, b64url_encode, strict_json_object
from rest.jwt.keys import KeySet, VerificationKey


@pytest.mark.parametrize("size", range(0, 40))
def test_decodes_what_the_encoder_wrote(size):
    data = os.urandom(size)
    assert b64url_decode(b64url_encode(data)) == data


@pytest.mark.parametrize(
    "segment",
    [
        "QR",  # 'R' has non-zero bits beyond the one data byte (canonical: 'QQ')
        "QUJ",  # 'J' carries bits beyond two data bytes (canonical: 'QUI')
        "QQ==",  # padding
        "QQ\n",  # a trailing newline ('$' in a regex would have let it through)
        "Q Q",
        "QQ+",  # standard-alphabet characters
        "QQ/",
        "Q",  # impossible length
        "QUJDR",
    ],
)
def test_refuses_every_other_spelling(segment):
    with pytest.raises(TokenRejected):
        b64url_decode(segment)


def test_every_non_canonical_last_character_is_refused():
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for prefix in ("Q", "QU"):  # one and two data bytes in the last group
        accepted = set()
        for c in alphabet:
            try:
                b64url_decode(prefix + c)
                accepted.add(c)
            except TokenRejected:
                pass
        canonical = {b64url_encode(base64.urlsafe_b64decode(prefix + c + "=" * (4 - len(prefix) - 1)))[-1]
                     for c in alphabet}  # fmt: skip
        assert accepted == canonical and len(accepted) == (4 if prefix == "Q" else 16)


def test_strict_json_still_refuses_duplicates_and_constants():
    with pytest.raises(TokenRejected, match="repeats the member 'a'"):
        strict_json_object(b'{"a":1,"b":{"c":2},"a":3}', what="claims")
    with pytest.raises(TokenRejected, match="repeats the member 'c'"):
        strict_json_object(b'{"b":{"c":2,"c":2}}', what="claims")
    for bad in (b'{"a":NaN}', b"\xef\xbb\xbf{}", b"[1]", b"{"):
        with pytest.raises(TokenRejected):
            strict_json_object(bad, what="claims")
    assert strict_json_object(b'{"a":{"b":[1,{"c":null}]}}', what="claims") == {"a": {"b": [1, {"c": None}]}}


@pytest.fixture(scope="module")
def two_keys():
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key() for _ in range(2)]


def test_key_memo_is_bounded_and_cannot_be_edited(two_keys):
    ks = KeySet([VerificationKey(two_keys[0], "a"), VerificationKey(two_keys[1], "b")])
    for i in range(500):  # an attacker's random kids find nothing and are not remembered
        assert ks.candidates("RS256", f"kid-{i}") == []
    assert ks.candidates("ES256", "a") == []
    found = ks.candidates("RS256", "a")
    assert [k.kid for k in found] == ["a"]
    found.clear()  # a caller's copy
    assert [k.kid for k in ks.candidates("RS256", "a")] == ["a"]
    assert [k.kid for k in ks.candidates("RS256", None)] == ["a", "b"]
    assert len(ks._found) == 2


def test_a_set_without_kids_ignores_the_kid_and_memoises_once(two_keys):
    ks = KeySet([VerificationKey(two_keys[0])])
    for i in range(100):
        assert len(ks.candidates("RS256", f"kid-{i}")) == 1
    assert len(ks._found) == 1


def test_a_key_prepares_itself_once_per_algorithm(two_keys):
    vk = VerificationKey(two_keys[0])
    assert vk.verifier("RS256") is vk.verifier("RS256")
    assert vk.verifier("PS256")[0] is not vk.verifier("RS256")[0]


def test_route_memo_is_bounded_and_read_only():
    anyio.run(_route_memo)


async def _route_memo() -> None:
    seen = []

    def owner(principal, method, params):
        seen.append(dict(params))
        with pytest.raises(TypeError):  # a read-only view: the memo cannot be edited
            params["order_id"] = "tampered"
        return principal.subject == "alice"

    policy = AccessPolicy(
        [
            Rule("GET", "/orders/{order_id}", frozenset(), True),
            Rule("POST", "/admin", frozenset({"admin"}), False),
        ],
        owner_check=owner,
    )
    alice = Principal("alice", frozenset(), {})
    for _ in range(2):  # the second decision comes from the memo: same answer, untouched parameters
        verdict = await policy.decide(alice, "GET", "/orders/7")
        assert verdict.allowed
    assert seen == [{"order_id": "7"}, {"order_id": "7"}]
    assert not (await policy.decide(Principal("bob", frozenset(), {}), "GET", "/orders/7")).allowed
    assert not (await policy.decide(alice, "POST", "/admin")).allowed
    assert (await policy.decide(Principal("root", frozenset({"admin"}), {}), "POST", "/admin")).allowed
    for i in range(_ROUTE_MEMO + 10):
        await policy.decide(alice, "GET", f"/orders/{i}")
    assert len(policy._routes) <= _ROUTE_MEMO
