"""Field encryption for personal data at rest (security.md DATA-2).

- Ciphertext: AES-256-GCM, a random 96-bit nonce per value, the field's name as associated data
  (a value copied into another column does not decrypt). Stored as ``<version>:<base64url>``,
  so keys can be rotated: ``FIELD_ENCRYPTION_KEY`` holds ``v2:<key>,v1:<key>``; the first key
  encrypts, every listed key decrypts; ``manage.py reencrypt_members`` moves rows to the first.
- Blind index: HMAC-SHA256 of the normalized value under ``FIELD_HASH_KEY`` (a separate key), for
  exact lookups and uniqueness without decrypting.
- Defaults (development and tests): both keys are derived from ``SECRET_KEY``. Production
  deployments set them explicitly; changing SECRET_KEY then no longer touches stored data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value could not be decrypted (unknown key version or tampered data)."""


@dataclass(frozen=True)
class Keyring:
    current_version: str
    keys: dict[str, AESGCM]
    hash_key: bytes


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def _derive(label: str) -> bytes:
    return hashlib.sha256(f"{label}|{settings.SECRET_KEY}".encode()).digest()


def parse_encryption_keys(raw: str) -> tuple[str, dict[str, bytes]]:
    """``v2:<base64url 32 bytes>,v1:<…>`` → (current version, {version: key})."""
    keys: dict[str, bytes] = {}
    current = ""
    for item in [part.strip() for part in raw.split(",") if part.strip()]:
        version, sep, encoded = item.partition(":")
        if not sep or not version.isalnum() or len(version) > 8:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY: expected comma-separated 'version:base64key' items, e.g. v1:<44 characters>"
            )
        try:
            key = _b64decode(encoded)
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEY: key {version!r} is not valid base64") from exc
        if len(key) != 32:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEY: key {version!r} must be 32 bytes (AES-256)")
        if version in keys:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEY: version {version!r} is listed twice")
        keys[version] = key
        current = current or version
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY: no key given")
    return current, keys


@lru_cache(maxsize=4)
def _keyring(raw_keys: str, raw_hash_key: str, secret_key: str) -> Keyring:
    if raw_keys:
        current, keys = parse_encryption_keys(raw_keys)
    else:
        current, keys = "v1", {"v1": _derive("pb-field-encryption")}
    if raw_hash_key:
        try:
            hash_key = _b64decode(raw_hash_key)
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured("FIELD_HASH_KEY: not valid base64") from exc
        if len(hash_key) < 32:
            raise ImproperlyConfigured("FIELD_HASH_KEY: must be at least 32 bytes")
    else:
        hash_key = _derive("pb-blind-index")
    return Keyring(current, {version: AESGCM(key) for version, key in keys.items()}, hash_key)


_current: Keyring | None = None


def keyring() -> Keyring:
    """The keys from settings, parsed once (and again after the settings change, in tests)."""
    global _current
    if _current is None:
        _current = _keyring(settings.FIELD_ENCRYPTION_KEY, settings.FIELD_HASH_KEY, settings.SECRET_KEY)
    return _current


@receiver(setting_changed)
def _forget_keyring(*, setting: str, **kwargs: object) -> None:
    global _current
    if setting in ("FIELD_ENCRYPTION_KEY", "FIELD_HASH_KEY", "SECRET_KEY"):
        _current = None


def encrypt(plaintext: str, *, field: str) -> str:
    if not plaintext:
        return ""
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.keys[ring.current_version].encrypt(nonce, plaintext.encode("utf-8"), field.encode("ascii"))
    return f"{ring.current_version}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii').rstrip('=')}"


def decrypt(token: str, *, field: str) -> str:
    if not token:
        return ""
    version, sep, encoded = token.partition(":")
    ring = keyring()
    aes = ring.keys.get(version)
    if not sep or aes is None:
        raise DecryptionError(f"unknown key version {version!r}")
    try:
        raw = _b64decode(encoded)
        return aes.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], field.encode("ascii")).decode("utf-8")
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise DecryptionError("ciphertext does not verify") from exc


def key_version(token: str) -> str:
    return token.partition(":")[0] if token else ""


def blind_index(value: str, *, field: str) -> str | None:
    """Keyed hash of a normalized value (hex), or None for an empty value."""
    if not value:
        return None
    return hmac.new(keyring().hash_key, f"{field}|{value}".encode(), hashlib.sha256).hexdigest()


def check_configuration() -> None:
    """Parse the keys now, so a malformed variable stops start-up (called from AppConfig.ready)."""
    keyring()


def encrypt_bytes(data: bytes, *, field: str) -> bytes:
    """Binary variant (uploaded import files): ``<version>:`` + nonce + ciphertext."""
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.keys[ring.current_version].encrypt(nonce, data, field.encode("ascii"))
    return ring.current_version.encode("ascii") + b":" + nonce + sealed


def decrypt_bytes(blob: bytes, *, field: str) -> bytes:
    version, sep, raw = bytes(blob).partition(b":")
    aes = keyring().keys.get(version.decode("ascii", "replace"))
    if not sep or aes is None:
        raise DecryptionError("unknown key version")
    try:
        return aes.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], field.encode("ascii"))
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("ciphertext does not verify") from exc
