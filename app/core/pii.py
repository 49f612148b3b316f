"""Personal information at rest: AES-GCM encrypted columns and a keyed hash for lookups and uniqueness.
Masks for the screen are in core/masking.py.

Keys rotate: DATA_KEY encrypts; DATA_KEYS_PREVIOUS (comma-separated, base64) still decrypt. Every
ciphertext names its key by a fingerprint, so old rows stay readable after a rotation and can be
re-encrypted at leisure.
"""
import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.types import TypeDecorator

_V1 = b"\x01"  # nonce + sealed, under DATA_KEY (before key ids)
_V2 = b"\x02"  # key id (4 bytes) + nonce + sealed


def _raw(key_b64: str) -> bytes:
    return base64.b64decode(key_b64.strip())


def _derive(data_key: bytes, purpose: bytes) -> bytes:
    """A sub-key for one purpose, so encryption and hashing never share a key."""
    return hmac.new(data_key, purpose, hashlib.sha256).digest()


def _key_id(data_key: bytes) -> bytes:
    return hashlib.sha256(b"key-id" + data_key).digest()[:4]


def _keys():
    """The current key, then the previous ones: [(key id, raw key)]."""
    config = current_app.config
    raw = [_raw(config["DATA_KEY"])] + [_raw(k) for k in (config.get("DATA_KEYS_PREVIOUS") or "").split(",")
                                        if k.strip()]
    return [(_key_id(key), key) for key in raw]


def seal(data: bytes) -> bytes:
    """Bytes encrypted under DATA_KEY (AES-GCM), naming the key."""
    key_id, key = _keys()[0]
    nonce = os.urandom(12)
    return _V2 + key_id + nonce + AESGCM(_derive(key, b"encrypt")).encrypt(nonce, data, _V2 + key_id)


def unseal(raw: bytes) -> bytes:
    if raw[:1] == _V2:
        key_id, nonce, sealed = raw[1:5], raw[5:17], raw[17:]
        key = next((k for kid, k in _keys() if kid == key_id), None)
        if key is None:
            raise ValueError("ciphertext under a key that is no longer configured")
        return AESGCM(_derive(key, b"encrypt")).decrypt(nonce, sealed, _V2 + key_id)
    if raw[:1] == _V1:
        return AESGCM(_derive(_keys()[0][1], b"encrypt")).decrypt(raw[1:13], raw[13:], _V1)
    raise ValueError("unknown ciphertext version")


def encrypt(plaintext: str) -> str:
    return base64.b64encode(seal(plaintext.encode())).decode()


def decrypt(token: str) -> str:
    return unseal(base64.b64decode(token)).decode()


def keyed_hash(value: str) -> str:
    """Equal inputs give equal hashes (for lookups), but only with DATA_KEY."""
    return hmac.new(_derive(_keys()[0][1], b"lookup"), value.encode(), hashlib.sha256).hexdigest()


class Encrypted(TypeDecorator):
    """A text column stored encrypted; reads give back the plaintext."""
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


class EncryptedBytes(TypeDecorator):
    """A binary column (a claim's document) stored encrypted; reads give back the bytes."""
    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else seal(value)

    def process_result_value(self, value, dialect):
        return None if value is None else unseal(bytes(value))


def keyed_digest(data: bytes) -> str:
    """keyed_hash for bytes (a file's content): equal files give equal digests, only with DATA_KEY."""
    return hmac.new(_derive(_keys()[0][1], b"lookup"), data, hashlib.sha256).hexdigest()


HASH = String(64)
