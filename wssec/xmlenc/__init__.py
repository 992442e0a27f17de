"""W3C XML Encryption (1.0 and the 1.1 GCM/OAEP additions) on lxml trees:
algorithms in :mod:`wssec.xmlenc.algorithms`, the EncryptedData/EncryptedKey
data model in :mod:`wssec.xmlenc.core`.  The WS-Security face (Encryptor,
Decryptor) is :mod:`wssec.encryption`."""
