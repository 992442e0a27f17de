"""lxml and xmlsec must share one libxml2.

Both link libxml2; when the wheels bring different copies, xmlsec operates on
lxml's trees with the wrong library and crashes or, worse, mis-verifies.  We
check once at import and fail with an instruction instead.
"""

from __future__ import annotations


class LibxmlMismatch(ImportError):
    """lxml and xmlsec were built against different libxml2 versions."""


def check_libxml_versions() -> None:
    """Raise :class:`LibxmlMismatch` unless lxml and xmlsec use the same libxml2."""
    import xmlsec
    from lxml import etree

    lxml_v = etree.LIBXML_VERSION
    xmlsec_v = tuple(xmlsec.get_libxml_version())
    if lxml_v != xmlsec_v:
        raise LibxmlMismatch(
            "lxml uses libxml2 {} but xmlsec uses {}; reinstall both from matching wheels "
            "(pip install --force-reinstall lxml xmlsec) or both from source "
            "(pip install --no-binary lxml,xmlsec lxml xmlsec)".format(
                ".".join(map(str, lxml_v)), ".".join(map(str, xmlsec_v))
            )
        )
