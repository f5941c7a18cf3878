"""sign / verify: HMAC-SHA256 over the raw body, standard base64, constant-time compare."""

from __future__ import annotations

import binascii
import hmac
import re
from collections.abc import Sequence
from functools import lru_cache

from .exceptions import ConfigurationError, InvalidSignatureError, MissingSignatureError

__all__ = [
    "Secret",
    "Secrets",
    "body_bytes",
    "normalize_secrets",
    "sign",
    "signature_bytes",
    "verify",
]

#: A webhook secret, as text or bytes.
Secret = str | bytes
#: One secret, or several (during a rotation, every one is tried).
Secrets = Secret | Sequence[Secret]

#: 32 bytes of HMAC-SHA256 in padded standard base64: 43 characters and one "=".
_SIGNATURE_FORMAT = re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")
_SIGNATURE_LENGTH = 44


def _key(secret: object) -> bytes:
    if isinstance(secret, str):
        key = secret.encode("utf-8")
    elif isinstance(secret, bytes):
        key = secret
    else:
        msg = f"A webhook secret must be str or bytes, not {type(secret).__name__}."
        raise ConfigurationError(msg)
    if not key:
        msg = (
            "The webhook secret is empty. Pass the Secret from the SuperOffice webhook "
            "definition; an empty secret would accept forged requests."
        )
        raise ConfigurationError(msg)
    return key


def normalize_secrets(secret: Secrets) -> tuple[bytes, ...]:
    """Turn one secret or a rotation list into the UTF-8 keys to try, in order."""
    if isinstance(secret, (str, bytes)):
        return (_key(secret),)
    if not isinstance(secret, Sequence):
        msg = (
            "secret must be a str, bytes, or a list of them (for rotation), "
            f"not {type(secret).__name__}."
        )
        raise ConfigurationError(msg)
    keys = tuple(_key(s) for s in secret)
    if not keys:
        msg = "The list of webhook secrets is empty. Pass at least one secret."
        raise ConfigurationError(msg)
    return keys


def body_bytes(body: object, *, allow_str: bool = True) -> bytes:
    """The raw body as bytes; a str only where *allow_str* (it is encoded as UTF-8)."""
    if isinstance(body, bytes):
        return body
    if allow_str and isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    msg = (
        f"The body must be the raw request body as bytes, not {type(body).__name__}. "
        "Pass the bytes exactly as received, before any decoding or JSON parsing."
    )
    raise ConfigurationError(msg)


@lru_cache(maxsize=64)
def _prekeyed(key: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 object that has absorbed *key*; copied, never updated itself.

    Copying it skips the key schedule and the digest lookup that ``hmac.digest``
    repeats on every call, which makes it faster than the one-shot function.
    """
    return hmac.new(key, digestmod="sha256")


def _digest(key: bytes, body: bytes) -> bytes:
    mac = _prekeyed(key).copy()
    mac.update(body)
    return binascii.b2a_base64(mac.digest(), newline=False)


def sign(body: bytes | str, secret: str | bytes) -> str:
    """Return the ``X-SuperOffice-Signature`` value SuperOffice would send for *body*.

    That is the standard, padded base64 of HMAC-SHA256 over the body bytes, keyed
    with the secret as UTF-8. A ``str`` body is encoded as UTF-8 first.
    """
    return _digest(_key(secret), body_bytes(body)).decode("ascii")


def signature_bytes(signature: object) -> bytes:
    """The signature as ASCII bytes, or the MissingSignatureError / InvalidSignatureError it earns."""
    if signature is None or signature in ("", b""):
        msg = (
            "The request has no X-SuperOffice-Signature header. Set a Secret on the "
            "webhook in SuperOffice so that it signs its requests."
        )
        raise MissingSignatureError(msg)
    if isinstance(signature, str):
        if not signature.isascii():
            msg = "The signature contains non-ASCII characters; it must be base64."
            raise InvalidSignatureError(msg)
        raw = signature.encode("ascii")
    elif isinstance(signature, bytes):
        raw = signature
    else:
        msg = f"The signature must be a str, not {type(signature).__name__}."
        raise InvalidSignatureError(msg)
    if len(raw) != _SIGNATURE_LENGTH or _SIGNATURE_FORMAT.fullmatch(raw.decode("latin-1")) is None:
        msg = (
            "The signature is malformed: expected 44 characters of standard base64 "
            "(an HMAC-SHA256 digest), as in the X-SuperOffice-Signature header."
        )
        raise InvalidSignatureError(msg)
    return raw


def check(body: bytes, signature: object, keys: tuple[bytes, ...]) -> None:
    """Verify with keys already normalised by :func:`normalize_secrets`."""
    # Happy path first: a signature equal to a computed digest is well-formed by
    # construction, so the format is only examined (for the right error) on a mismatch.
    if type(signature) is str and signature.isascii():
        given = signature.encode("ascii")
    elif type(signature) is bytes:
        given = signature
    else:
        given = signature_bytes(signature)
    matched = False
    for key in keys:
        # Try every key so that the time taken does not tell which one matched.
        matched |= hmac.compare_digest(_digest(key, body), given)
    if not matched:
        signature_bytes(signature)  # missing or malformed: that error, not "no match"
        msg = (
            "The signature does not match the body. Check that the secret is the "
            "webhook's Secret and that the body is passed exactly as received."
        )
        raise InvalidSignatureError(msg)


def verify(body: bytes | str, signature: str | None, secret: Secrets) -> None:
    """Check that *signature* is SuperOffice's signature of *body* under *secret*.

    *secret* may be a list of secrets while rotating: any one matching is enough.
    Returns ``None`` on success.

    :raises ConfigurationError: the secret (or the list) is empty, or an argument has
        the wrong type.
    :raises MissingSignatureError: *signature* is ``None`` or empty.
    :raises InvalidSignatureError: *signature* is malformed or does not match.
    """
    keys = normalize_secrets(secret)
    check(body_bytes(body), signature, keys)
