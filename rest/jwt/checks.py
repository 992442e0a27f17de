"""Check ids of the JWT probes, looked up in the check catalogue
(``compare/catalogue.toml``, where their meaning is declared once).

Every id is a contract (CI baselines filter on it).  A ``fail`` means the
API accepted a forged token exactly like a genuine one.
"""

from __future__ import annotations

from compare.findings import check_info

NONE_ALG = check_info("jwt.none-alg")
UNSIGNED = check_info("jwt.unsigned")
TAMPERED = check_info("jwt.tampered-payload")
KEY_CONFUSION = check_info("jwt.key-confusion")
EMBEDDED_JWK = check_info("jwt.embedded-jwk")
JKU = check_info("jwt.jku-injection")
KID = check_info("jwt.kid-injection")
WEAK_SECRET = check_info("jwt.weak-secret")
PSYCHIC = check_info("jwt.psychic-signature")
EXPIRED = check_info("jwt.expired")
NOT_YET_VALID = check_info("jwt.not-yet-valid")
WRONG_AUD = check_info("jwt.wrong-audience")
WRONG_ISS = check_info("jwt.wrong-issuer")
MISSING_EXP = check_info("jwt.missing-exp")

ALL = (
    NONE_ALG,
    UNSIGNED,
    TAMPERED,
    KEY_CONFUSION,
    EMBEDDED_JWK,
    JKU,
    KID,
    WEAK_SECRET,
    PSYCHIC,
    EXPIRED,
    NOT_YET_VALID,
    WRONG_AUD,
    WRONG_ISS,
    MISSING_EXP,
)
