"""Encryption at rest with rotating keys, and the keyed hash."""
import base64

import pytest
from cryptography.exceptions import InvalidTag

from app import create_app
from app.core import pii
from tests.support.config import TEST_CONFIG

OLD = base64.b64encode(bytes(range(32))).decode()
NEW = base64.b64encode(bytes(range(100, 132))).decode()


def app_with(**keys):
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://", **keys})


def test_round_trip_and_every_ciphertext_differs():
    with app_with(DATA_KEY=OLD).app_context():
        first, second = pii.encrypt("110101199003071234"), pii.encrypt("110101199003071234")
        assert first != second and "1101011990" not in first
        assert pii.decrypt(first) == pii.decrypt(second) == "110101199003071234"


def test_after_a_rotation_old_rows_still_read_and_new_ones_use_the_new_key():
    with app_with(DATA_KEY=OLD).app_context():
        old_row = pii.encrypt("张三")
    with app_with(DATA_KEY=NEW, DATA_KEYS_PREVIOUS=OLD).app_context():
        assert pii.decrypt(old_row) == "张三"
        new_row = pii.encrypt("李四")
    with app_with(DATA_KEY=NEW).app_context():
        assert pii.decrypt(new_row) == "李四"
        with pytest.raises(ValueError, match="no longer configured"):
            pii.decrypt(old_row)


def test_tampering_is_detected():
    with app_with(DATA_KEY=OLD).app_context():
        raw = bytearray(base64.b64decode(pii.encrypt("13800138000")))
        raw[-1] ^= 1
        with pytest.raises(InvalidTag):
            pii.decrypt(base64.b64encode(bytes(raw)).decode())


def test_keyed_hash_is_stable_and_needs_the_key():
    with app_with(DATA_KEY=OLD).app_context():
        assert pii.keyed_hash("110101199003071234") == pii.keyed_hash("110101199003071234")
        under_old = pii.keyed_hash("110101199003071234")
    with app_with(DATA_KEY=NEW).app_context():
        assert pii.keyed_hash("110101199003071234") != under_old
