"""Why does a signature not verify? Tries the usual mistakes and names the one that fits.

Each candidate changes the body, the secret or the signature in one way a real setup gets
wrong (a re-serialised body, a newline at the end of the secret, ...); a combination that
makes the signature verify explains the failure. Nothing here prints or returns a secret,
a signature or the body.
"""

from __future__ import annotations

import ast
import base64
import binascii
import hmac
import json
import re
from itertools import product
from typing import TYPE_CHECKING, Any

import attrs

from ._verify import sign

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["DOCS_PLACEHOLDER_SIGNATURE", "Diagnosis", "explain"]

#: The signature printed under a dozen different bodies in SuperOffice's documentation.
DOCS_PLACEHOLDER_SIGNATURE = "X1FmmRIXuzH8o0MDanva1lnuNZXoix6M0US1S64s+e8="

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_EVENT_NAME = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z0-9_]+)+|test")
_BOM = b"\xef\xbb\xbf"


@attrs.frozen
class Diagnosis:
    """The outcome of :func:`explain`."""

    #: The signature verifies as given: there is nothing to explain.
    verifies: bool
    #: The likely causes, most specific first; empty when none was found.
    causes: tuple[str, ...]
    #: What was tried, for the "nothing matched" case.
    tried: int = 0


@attrs.frozen
class _Variant:
    value: Any
    cause: str | None


def _bytes_literal(data: bytes) -> bytes | None:
    """``b'...'`` (what ``str(some_bytes)`` gives) back to the bytes, if that is what it is."""
    text = data.strip().decode("utf-8", errors="replace")
    if len(text) < 3 or text[0] != "b" or text[1] not in "'\"" or text[-1] != text[1]:  # noqa: PLR2004  # b'' at least
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, bytes) else None


def _reserialised(body: bytes) -> Iterator[_Variant]:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except ValueError:
        return
    styles: list[tuple[str, dict[str, Any]]] = [
        ("compact JSON", {"separators": (",", ":")}),
        ("Python's json.dumps default (spaces after , and :)", {}),
        ("JSON indented by 2 spaces", {"indent": 2}),
        ("JSON indented by 4 spaces", {"indent": 4}),
        ("JSON with sorted keys", {"separators": (",", ":"), "sort_keys": True}),
        ("JSON with sorted keys (json.dumps default)", {"sort_keys": True}),
        ("JSON with sorted keys, indented", {"indent": 2, "sort_keys": True}),
    ]
    for label, options in styles:
        for ascii_only in (False, True):
            text = json.dumps(data, ensure_ascii=ascii_only, **options)
            suffix = " with non-ASCII characters escaped" if ascii_only else ""
            cause = (
                f"The body was re-serialised: the signature matches the same JSON written as "
                f"{label}{suffix}. Verify the raw request bytes, before any JSON parsing."
            )
            yield _Variant(text.encode(), cause)
            yield _Variant(f"{text}\n".encode(), cause)
            if "indent" in options:
                net = text.replace("\n", "\r\n").encode()
                yield _Variant(
                    net,
                    "The body was re-serialised: the signature matches the same JSON indented "
                    ".NET-style (2 spaces, CRLF line ends), as SuperOffice writes it. Verify "
                    "the raw request bytes, not a copy that was parsed and written again.",
                )


def _body_variants(body: bytes) -> Iterator[_Variant]:
    yield _Variant(body, None)
    literal = _bytes_literal(body)
    if literal is not None:
        yield _Variant(
            literal,
            "The body is the text of a Python bytes literal (b'...'), as str(body) gives: "
            "pass the bytes themselves, or decode them, instead of str().",
        )
    lf = body.replace(b"\r\n", b"\n")
    changes = [
        (
            body.rstrip(b"\r\n"),
            (
                "The body has a trailing newline that was not signed (an editor or a copy "
                "added it): verify the bytes exactly as received."
            ),
        ),
        (body + b"\n", "The body lost its trailing newline: the signed body ends with a newline."),
        (body.strip(), "The body has leading or trailing whitespace that was not signed."),
        (
            body.removeprefix(_BOM),
            (
                "The body starts with a byte order mark (BOM) that was not signed: something "
                "re-encoded it as UTF-8 with BOM."
            ),
        ),
        (
            _BOM + body,
            (
                "The signed body starts with a byte order mark (BOM) that was stripped: verify "
                "the bytes before decoding them (utf-8-sig drops the BOM)."
            ),
        ),
        (lf, "The line ends differ: the body has CRLF (Windows) line ends, the signed body LF."),
        (
            lf.replace(b"\n", b"\r\n"),
            (
                "The line ends differ: the signed body has CRLF (Windows) line ends, this one LF "
                "(git or an editor converted them)."
            ),
        ),
    ]
    for changed, cause in changes:
        if changed != body:
            yield _Variant(changed, cause)
    yield from _reserialised(body)


def _secret_variants(secret: bytes) -> Iterator[_Variant]:
    yield _Variant(secret, None)
    stripped = secret.strip()
    if stripped != secret:
        yield _Variant(
            stripped,
            "The secret has leading or trailing whitespace or a newline (as read from a file "
            "or an environment variable): strip it.",
        )
    if len(stripped) > 2 and stripped[:1] == stripped[-1:] and stripped[:1] in (b'"', b"'"):  # noqa: PLR2004  # two quotes
        yield _Variant(stripped[1:-1], "The secret still has its quotes around it: remove them.")
    literal = _bytes_literal(secret)
    if literal is not None:
        yield _Variant(
            literal,
            "The secret is the text of a Python bytes literal (b'...'), as str(secret) gives.",
        )
    try:
        decoded = base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if decoded and decoded != stripped:
        yield _Variant(
            decoded,
            "The secret you have is base64-encoded but the signature was made with the "
            "decoded secret: decode it (base64) first.",
        )
    yield _Variant(
        base64.b64encode(stripped),
        "The signature was made with the base64 encoding of the secret: use the secret "
        "exactly as SuperOffice shows it, without encoding it.",
    )


def _signature_variants(signature: str) -> Iterator[_Variant]:
    yield _Variant(signature, None)
    text = signature.strip()
    if text != signature:
        yield _Variant(text, "The signature has whitespace or a newline around it: strip it.")
    literal = _bytes_literal(text.encode())
    if literal is not None:
        yield _Variant(
            literal.decode("latin-1"),
            "The signature is written as a Python bytes literal (b'...'): use "
            "base64.b64encode(digest).decode('ascii'), not str().",
        )
    if text.lower().startswith("sha256="):
        yield _Variant(
            text[7:],
            "The signature has a 'sha256=' prefix: SuperOffice sends the bare base64 "
            "digest, with no prefix.",
        )
    if "-" in text or "_" in text or len(text) % 4:
        fixed = text.replace("-", "+").replace("_", "/")
        yield _Variant(
            fixed + "=" * (-len(fixed) % 4),
            "The signature is in URL-safe or unpadded base64: SuperOffice uses standard, "
            "padded base64 (+, / and a final =).",
        )


def _wrong_value(signature: str, body: bytes, key: bytes) -> str | None:  # noqa: PLR0911  # a return per cause
    """A cause when the 'signature' is the digest in hex, or some other value entirely."""
    text = signature.strip()
    candidate = text.lower().removeprefix("sha256=").encode("utf-8", "replace")
    if hmac.compare_digest(hmac.new(key, body, "sha256").hexdigest().encode(), candidate):
        return (
            "The signature is a hex digest: SuperOffice sends the digest in base64, "
            "base64.b64encode(hmac.digest(...)), not hexdigest()."
        )
    if text == DOCS_PLACEHOLDER_SIGNATURE:
        return (
            "This is the placeholder signature printed in SuperOffice's documentation; it "
            "belongs to no real body. Take the X-SuperOffice-Signature header of a real request."
        )
    if _GUID.fullmatch(text):
        return (
            "This is a GUID, probably the X-SuperOffice-EventId header, not the "
            "X-SuperOffice-Signature header."
        )
    if _EVENT_NAME.fullmatch(text):
        return (
            "This is an event name, probably the X-SuperOffice-Event header, not the "
            "X-SuperOffice-Signature header."
        )
    if text.startswith("NetServer-Webhook"):
        return "This is the User-Agent header, not the X-SuperOffice-Signature header."
    if not body:
        return (
            "The body is empty: it was probably read twice (the first read consumed it). "
            "Verify the bytes you read once."
        )
    return None


def _signs(key: bytes, body: bytes, signature: str) -> bool:
    if not key:
        return False
    return hmac.compare_digest(sign(body, key).encode(), signature.encode("utf-8", "replace"))


def explain(body: bytes, signature: str, secret: str | bytes) -> Diagnosis:
    """Find out why *signature* does not verify *body* under *secret*."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    if _signs(key, body, signature):
        return Diagnosis(verifies=True, causes=())
    variants = list(
        product(_signature_variants(signature), _secret_variants(key), _body_variants(body))
    )
    for tried, (sig, sec, bod) in enumerate(variants, 1):
        if _signs(sec.value, bod.value, sig.value):
            causes = tuple(v.cause for v in (sig, sec, bod) if v.cause is not None)
            return Diagnosis(verifies=False, causes=causes, tried=tried)
    wrong = _wrong_value(signature, body, key)
    return Diagnosis(verifies=False, causes=(wrong,) if wrong else (), tried=len(variants))
