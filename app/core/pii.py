"""Personal information at rest: AES-GCM encrypted columns (key from DATA_KEY) and a keyed hash for
lookups and uniqueness. Masks for the screen are in core/masking.py."""
import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import String, Text
from sqlalchemy.types import TypeDecorator

_VERSION = b"\x01"  # a prefix so that keys or algorithms can change later


def _key(purpose: bytes) -> bytes:
    """A sub-key of DATA_KEY for one purpose, so encryption and hashing never share a key."""
    data_key = base64.b64decode(current_app.config["DATA_KEY"])
    return hmac.new(data_key, purpose, hashlib.sha256).digest()


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(b"encrypt")).encrypt(nonce, plaintext.encode(), _VERSION)
    return base64.b64encode(_VERSION + nonce + sealed).decode()


def decrypt(token: str) -> str:
    raw = base64.b64decode(token)
    if raw[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    return AESGCM(_key(b"encrypt")).decrypt(raw[1:13], raw[13:], _VERSION).decode()


def keyed_hash(value: str) -> str:
    """Equal inputs give equal hashes (for lookups), but only with DATA_KEY."""
    return hmac.new(_key(b"lookup"), value.encode(), hashlib.sha256).hexdigest()


class Encrypted(TypeDecorator):
    """A text column stored encrypted; reads give back the plaintext."""
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)


HASH = String(64)
