"""sign / verify / verify_and_parse: HMAC-SHA256 over the raw body, standard base64."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SECRET, example, example_json, examples
from superoffice_webhooks import (
    ConfigurationError,
    InvalidSignatureError,
    MissingSignatureError,
    PayloadError,
    PersonCreated,
    SuperOfficeWebhookError,
    TestEvent,
    VerificationError,
    _verify,
    parse,
    sign,
    verify,
    verify_and_parse,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

BODY = example("person.created")
STANDARD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

#: Values that must never show up in an error message.
MESSAGE_SECRET = "TOPSECRET-KEY-7f3a"  # noqa: S105
PERSONAL = "SECRET-PERSONAL-DATA"


def expected_signature(body: bytes, key: bytes) -> str:
    """The signature computed independently of the library."""
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def signature_with(predicate: Callable[[str], bool]) -> tuple[bytes, str]:
    """A body (variant of BODY) whose correct signature satisfies *predicate*."""
    for i in itertools.count():
        body = BODY + b" " * i
        sig = expected_signature(body, SECRET.encode("utf-8"))
        if predicate(sig):
            return body, sig
    raise AssertionError  # pragma: no cover


def personal_body() -> bytes:
    """A person.created body carrying a distinctive personal value."""
    data = example_json("person.created")
    data["WebhookName"] = PERSONAL
    return json.dumps(data).encode("utf-8")


# --- known answers --------------------------------------------------------------


def test_sign_known_answer_rfc4231() -> None:
    """sign matches the RFC 4231 test case 1 HMAC-SHA256 vector, base64-encoded."""
    key = b"\x0b" * 20
    digest = bytes.fromhex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    assert sign(b"Hi There", key) == base64.b64encode(digest).decode("ascii")


def test_sign_matches_independent_hmac() -> None:
    """sign is padded standard base64 of HMAC-SHA256 keyed with the UTF-8 secret."""
    expected = expected_signature(BODY, SECRET.encode("utf-8"))
    got = sign(BODY, SECRET)
    assert got == expected
    assert len(got) == 44
    assert got.endswith("=")
    verify(BODY, expected, SECRET)


def test_sign_returns_str() -> None:
    """sign returns a str (the header value), not bytes."""
    assert type(sign(BODY, SECRET)) is str


def test_str_and_bytes_body_are_equivalent() -> None:
    """A str body is signed and verified as its UTF-8 encoding."""
    text = '{"WebhookName": "Zürich ✓"}'
    sig = sign(text.encode("utf-8"), SECRET)
    assert sign(text, SECRET) == sig
    verify(text, sig, SECRET)
    verify(text.encode("utf-8"), sign(text, SECRET), SECRET)


def test_str_and_bytes_secret_are_equivalent() -> None:
    """A str secret is the same key as its UTF-8 bytes."""
    sig = sign(BODY, SECRET)
    assert sign(BODY, SECRET.encode("utf-8")) == sig
    verify(BODY, sig, SECRET.encode("utf-8"))
    verify(BODY, sign(BODY, SECRET.encode("utf-8")), SECRET)


def test_non_ascii_secret_is_utf8_encoded() -> None:
    """A non-ASCII secret is keyed as UTF-8 (not Latin-1 or UTF-16)."""
    secret = "Pässwörd-ñ-日本-✓"  # noqa: S105
    expected = expected_signature(BODY, secret.encode("utf-8"))
    assert sign(BODY, secret) == expected
    verify(BODY, expected, secret)
    latin1 = expected_signature(BODY, "Pässwörd".encode("latin-1"))
    with pytest.raises(InvalidSignatureError):
        verify(BODY, latin1, "Pässwörd")


def test_verify_accepts_exact_body_only() -> None:
    """The raw body is what is signed: re-serialised JSON does not verify."""
    sig = sign(BODY, SECRET)
    reserialised = json.dumps(json.loads(BODY)).encode("utf-8")
    assert reserialised != BODY
    with pytest.raises(InvalidSignatureError):
        verify(reserialised, sig, SECRET)


def test_verify_returns_none() -> None:
    """verify returns None on success."""
    result = verify(BODY, sign(BODY, SECRET), SECRET)  # type: ignore[func-returns-value]
    assert result is None


# --- rotation ---------------------------------------------------------------------


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_rotation_any_matching_secret_passes(order: tuple[int, ...]) -> None:
    """With a list of secrets, the one that matches may be anywhere in the list."""
    secrets = ["old secret", SECRET, "newer secret"]
    rotated = [secrets[i] for i in order]
    verify(BODY, sign(BODY, SECRET), rotated)
    verify(BODY, sign(BODY, SECRET), tuple(rotated))


def test_rotation_mixed_str_and_bytes() -> None:
    """A rotation list may mix str and bytes secrets."""
    secrets: list[str | bytes] = [b"old secret", "new secret"]
    verify(BODY, sign(BODY, "old secret"), secrets)
    verify(BODY, sign(BODY, b"new secret"), secrets)


def test_rotation_single_element_list() -> None:
    """A one-element list behaves like the secret itself."""
    verify(BODY, sign(BODY, SECRET), [SECRET])
    with pytest.raises(InvalidSignatureError):
        verify(BODY, sign(BODY, "other"), [SECRET])


def test_rotation_none_matching_fails() -> None:
    """If no secret in the list matches, verification fails."""
    with pytest.raises(InvalidSignatureError):
        verify(BODY, sign(BODY, SECRET), ["one", "two", b"three"])


# --- configuration errors ------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("", id="empty-str"),
        pytest.param(b"", id="empty-bytes"),
        pytest.param([], id="empty-list"),
        pytest.param((), id="empty-tuple"),
        pytest.param([SECRET, ""], id="list-with-empty-str"),
        pytest.param(["", SECRET], id="list-with-leading-empty"),
        pytest.param([b"", SECRET], id="list-with-empty-bytes"),
        pytest.param(None, id="none"),
        pytest.param(12345, id="int"),
        pytest.param(1.5, id="float"),
        pytest.param({"secret": SECRET}, id="dict"),
        pytest.param({SECRET}, id="set"),
        pytest.param([SECRET, 42], id="list-with-int"),
        pytest.param([SECRET, None], id="list-with-none"),
        pytest.param([[SECRET]], id="nested-list"),
    ],
)
def test_bad_secret_is_configuration_error(secret: object) -> None:
    """An empty secret, an empty list, a list with an empty secret or a wrong type is refused."""
    sig = sign(BODY, SECRET)
    with pytest.raises(ConfigurationError) as info:
        verify(BODY, sig, secret)  # type: ignore[arg-type]
    assert isinstance(info.value, SuperOfficeWebhookError)
    assert not isinstance(info.value, VerificationError)
    assert SECRET not in str(info.value)
    assert sig not in str(info.value)


@pytest.mark.parametrize("secret", ["", b"", None, 7])
def test_sign_with_bad_secret_is_configuration_error(secret: object) -> None:
    """sign refuses an empty secret or a non-str/bytes one as well."""
    with pytest.raises(ConfigurationError):
        sign(BODY, secret)  # type: ignore[arg-type]


def test_bad_secret_checked_even_without_signature() -> None:
    """An empty secret is a configuration error even when the request has no signature."""
    with pytest.raises(ConfigurationError):
        verify(BODY, None, "")


@pytest.mark.parametrize("body", [None, 123, {"Event": "test"}, ["x"]])
def test_wrong_body_type_is_configuration_error(body: object) -> None:
    """The body must be the raw bytes (or str), not a decoded object."""
    with pytest.raises(ConfigurationError):
        verify(body, sign(BODY, SECRET), SECRET)  # type: ignore[arg-type]


# --- missing signature -------------------------------------------------------------


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_signature(signature: str | None) -> None:
    """No signature (None) or an empty one is MissingSignatureError."""
    with pytest.raises(MissingSignatureError) as info:
        verify(BODY, signature, SECRET)
    assert isinstance(info.value, VerificationError)
    assert isinstance(info.value, SuperOfficeWebhookError)
    assert not isinstance(info.value, InvalidSignatureError)


# --- invalid signature -------------------------------------------------------------


def _noncanonical(sig: str) -> str:
    """The same digest with the unused low bits of the last base64 digit set."""
    last = STANDARD_ALPHABET.index(sig[42])
    return sig[:42] + STANDARD_ALPHABET[last + 1] + sig[43:]


def _malformed_signatures() -> list[tuple[str, bytes, str]]:
    """(id, body, signature) cases that must be rejected as invalid."""
    good = expected_signature(BODY, SECRET.encode("utf-8"))
    url_body, url_sig = signature_with(lambda s: "+" in s or "/" in s)
    urlsafe = url_sig.replace("+", "-").replace("/", "_")
    return [
        ("wrong-signature", BODY, expected_signature(BODY, b"not the secret")),
        ("other-body", BODY, expected_signature(BODY + b"x", SECRET.encode("utf-8"))),
        ("too-short", BODY, good[:-2] + "="),
        ("too-long", BODY, good[:-1] + "A="),
        ("double-length", BODY, good + good),
        ("one-char", BODY, "A"),
        ("non-base64-star", BODY, "*" + good[1:]),
        ("non-base64-dot", BODY, good[:10] + "." + good[11:]),
        ("non-base64-space-inside", BODY, good[:10] + " " + good[11:]),
        ("non-ascii-letter", BODY, "é" + good[1:]),
        ("non-ascii-fullwidth", BODY, good[:20] + "\uff21" + good[21:]),
        ("non-ascii-appended", BODY, good + "✓"),
        ("urlsafe-alphabet", url_body, urlsafe),
        ("missing-padding", BODY, good.rstrip("=")),
        ("extra-padding", BODY, good + "="),
        ("leading-space", BODY, " " + good),
        ("trailing-space", BODY, good + " "),
        ("trailing-newline", BODY, good + "\n"),
        ("crlf-and-tab", BODY, "\t" + good + "\r\n"),
        ("sha256-prefix", BODY, "sha256=" + good),
        ("hex-digest", BODY, hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()),
        ("lowercased", BODY, good.lower() if good.lower() != good else good.upper()),
        ("non-canonical", BODY, _noncanonical(good)),
    ]


MALFORMED = _malformed_signatures()


@pytest.mark.parametrize(
    ("body", "signature"), [(b, s) for _, b, s in MALFORMED], ids=[i for i, _, _ in MALFORMED]
)
def test_invalid_signature(body: bytes, signature: str) -> None:
    """Wrong, malformed or non-canonical signatures are InvalidSignatureError, never ValueError."""
    with pytest.raises(InvalidSignatureError) as info:
        verify(body, signature, SECRET)
    assert isinstance(info.value, VerificationError)
    assert isinstance(info.value, SuperOfficeWebhookError)
    assert not isinstance(info.value, MissingSignatureError)
    assert not isinstance(info.value, (ValueError, binascii.Error, UnicodeError))


def test_urlsafe_case_really_differs_from_standard() -> None:
    """The urlsafe case uses '-' or '_' and decodes (urlsafe) to the right digest."""
    url_body, url_sig = signature_with(lambda s: "+" in s or "/" in s)
    urlsafe = url_sig.replace("+", "-").replace("/", "_")
    assert urlsafe != url_sig
    assert base64.urlsafe_b64decode(urlsafe) == hmac.digest(
        SECRET.encode("utf-8"), url_body, "sha256"
    )
    with pytest.raises(InvalidSignatureError):
        verify(url_body, urlsafe, SECRET)


def test_non_canonical_base64_of_right_digest_is_rejected() -> None:
    """A different base64 spelling of the right digest (lenient decoders agree) is refused."""
    good = sign(BODY, SECRET)
    variant = _noncanonical(good)
    assert variant != good
    assert base64.b64decode(variant) == base64.b64decode(good)
    with pytest.raises(InvalidSignatureError):
        verify(BODY, variant, SECRET)


def test_missing_padding_of_right_digest_is_rejected() -> None:
    """The right digest without its '=' padding is refused."""
    good = sign(BODY, SECRET)
    unpadded = good.rstrip("=")
    assert base64.b64decode(unpadded + "=") == base64.b64decode(good)
    with pytest.raises(InvalidSignatureError):
        verify(BODY, unpadded, SECRET)


@pytest.mark.parametrize("signature", [123, 4.5, ["x"], object()])
def test_signature_of_wrong_type_is_invalid(signature: object) -> None:
    """A signature that is not a string is rejected as a verification failure."""
    with pytest.raises(VerificationError):
        verify(BODY, signature, SECRET)  # type: ignore[arg-type]


def test_signature_from_other_secret_in_header_does_not_verify() -> None:
    """A signature made with another secret does not verify."""
    with pytest.raises(InvalidSignatureError):
        verify(BODY, sign(BODY, SECRET + "x"), SECRET)


# --- error messages ------------------------------------------------------------------


def _error_cases() -> list[tuple[str, Callable[[], object]]]:
    body = personal_body()
    good = expected_signature(body, MESSAGE_SECRET.encode("utf-8"))
    other = expected_signature(body, b"some other secret")
    return [
        ("mismatch", lambda: verify(body, other, MESSAGE_SECRET)),
        ("mismatch-rotation", lambda: verify(body, other, [MESSAGE_SECRET, "x" + MESSAGE_SECRET])),
        ("malformed", lambda: verify(body, good[:-2], MESSAGE_SECRET)),
        ("non-canonical", lambda: verify(body, _noncanonical(good), MESSAGE_SECRET)),
        ("non-ascii", lambda: verify(body, "é" + good[1:], MESSAGE_SECRET)),
        ("missing", lambda: verify(body, None, MESSAGE_SECRET)),
        ("empty", lambda: verify(body, "", MESSAGE_SECRET)),
        ("bad-list", lambda: verify(body, good, [MESSAGE_SECRET, 5])),  # type: ignore[list-item]
        ("empty-in-list", lambda: verify(body, good, [MESSAGE_SECRET, ""])),
        ("body-type", lambda: verify(json.loads(body), good, MESSAGE_SECRET)),
        ("vp-mismatch", lambda: verify_and_parse(body, other, MESSAGE_SECRET)),
    ]


ERROR_CASES = _error_cases()


@pytest.mark.parametrize("call", [c for _, c in ERROR_CASES], ids=[i for i, _ in ERROR_CASES])
def test_error_messages_leak_nothing(call: Callable[[], object]) -> None:
    """No error message contains the secret, the expected or given signature, or the body."""
    body = personal_body()
    good = expected_signature(body, MESSAGE_SECRET.encode("utf-8"))
    other = expected_signature(body, b"some other secret")
    with pytest.raises(SuperOfficeWebhookError) as info:
        call()
    message = str(info.value)
    assert message  # says something
    for secret_part in (MESSAGE_SECRET, "TOPSECRET", "7f3a"):
        assert secret_part not in message
    for signature in (good, other, good[:-2], good[:20], other[:20]):
        assert signature not in message
    assert PERSONAL not in message
    assert "Cust1234" not in message
    assert "576086e3" not in message
    assert repr(body)[2:30] not in message


# --- verify_and_parse ----------------------------------------------------------------


def test_verify_and_parse_returns_typed_event() -> None:
    """A correctly signed body comes back as its typed event."""
    event = verify_and_parse(BODY, sign(BODY, SECRET), SECRET)
    assert type(event) is PersonCreated
    assert event == parse(BODY)


def test_verify_and_parse_str_body_and_rotation() -> None:
    """verify_and_parse accepts a str body and a rotation list."""
    text = example("test").decode("utf-8")
    event = verify_and_parse(text, sign(text, SECRET), ["old", SECRET])
    assert type(event) is TestEvent


def test_verify_and_parse_wrong_signature() -> None:
    """A wrong signature raises InvalidSignatureError."""
    with pytest.raises(InvalidSignatureError):
        verify_and_parse(BODY, sign(BODY, "wrong"), SECRET)


@pytest.mark.parametrize("signature", [None, ""])
def test_verify_and_parse_missing_signature(signature: str | None) -> None:
    """No signature raises MissingSignatureError."""
    with pytest.raises(MissingSignatureError):
        verify_and_parse(BODY, signature, SECRET)


def test_verify_and_parse_empty_secret() -> None:
    """An empty secret raises ConfigurationError."""
    with pytest.raises(ConfigurationError):
        verify_and_parse(BODY, sign(BODY, SECRET), "")


def test_verify_and_parse_bad_payload_after_good_signature() -> None:
    """A verified body that is not a valid notification raises PayloadError."""
    body = b'{"Event": 5}'
    with pytest.raises(PayloadError) as info:
        verify_and_parse(body, sign(body, SECRET), SECRET)
    assert info.value.field == "Event"
    not_json = b"not json at all"
    with pytest.raises(PayloadError):
        verify_and_parse(not_json, sign(not_json, SECRET), SECRET)


def test_verify_and_parse_verifies_before_parsing() -> None:
    """An unverified body is never parsed: a bad signature wins over a bad body."""
    with pytest.raises(InvalidSignatureError):
        verify_and_parse(b"not json", sign(b"other", SECRET), SECRET)
    with pytest.raises(MissingSignatureError):
        verify_and_parse(b"not json", None, SECRET)


# --- properties ------------------------------------------------------------------------

secrets = st.binary(min_size=1, max_size=100) | st.text(min_size=1, max_size=50)
bodies = st.binary(max_size=500)


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


@settings(max_examples=examples(200))
@given(body=bodies, secret=secrets)
def test_property_sign_verify_round_trip(body: bytes, secret: str | bytes) -> None:
    """sign then verify succeeds for any body and any non-empty secret."""
    sig = sign(body, secret)
    assert sig == expected_signature(body, _key(secret))
    verify(body, sig, secret)
    verify(body, sig, [secret])


@settings(max_examples=examples(200))
@given(body=st.binary(min_size=1, max_size=300), secret=secrets, data=st.data())
def test_property_flipping_a_body_byte_fails(
    body: bytes, secret: str | bytes, data: st.DataObject
) -> None:
    """Changing any single byte of the body makes verification fail."""
    sig = sign(body, secret)
    index = data.draw(st.integers(0, len(body) - 1), label="index")
    flip = data.draw(st.integers(1, 255), label="xor")
    mutated = bytearray(body)
    mutated[index] ^= flip
    with pytest.raises(InvalidSignatureError):
        verify(bytes(mutated), sig, secret)


@settings(max_examples=examples(200))
@given(body=bodies, secret=secrets, data=st.data())
def test_property_changing_a_signature_char_fails(
    body: bytes, secret: str | bytes, data: st.DataObject
) -> None:
    """Replacing any single character of the signature makes verification fail."""
    sig = sign(body, secret)
    index = data.draw(st.integers(0, len(sig) - 1), label="index")
    char = data.draw(
        (st.sampled_from(STANDARD_ALPHABET + "=-_ .") | st.characters()).filter(
            lambda c: c != sig[index]
        ),
        label="char",
    )
    mutated = sig[:index] + char + sig[index + 1 :]
    assert mutated != sig
    with pytest.raises(InvalidSignatureError):
        verify(body, mutated, secret)


@settings(max_examples=examples(200))
@given(body=bodies, secret=st.binary(min_size=1, max_size=100), data=st.data())
def test_property_flipping_a_secret_byte_fails(
    body: bytes, secret: bytes, data: st.DataObject
) -> None:
    """Changing any single byte of the secret makes verification fail."""
    sig = sign(body, secret)
    index = data.draw(st.integers(0, len(secret) - 1), label="index")
    flip = data.draw(st.integers(1, 255), label="xor")
    mutated = bytearray(secret)
    mutated[index] ^= flip
    with pytest.raises(InvalidSignatureError):
        verify(body, sig, bytes(mutated))


@settings(max_examples=examples(100))
@given(
    body=bodies,
    secret=secrets,
    others=st.lists(st.binary(min_size=1, max_size=40), max_size=4),
    data=st.data(),
)
def test_property_rotation_position_irrelevant(
    body: bytes, secret: str | bytes, others: Sequence[bytes], data: st.DataObject
) -> None:
    """The matching secret verifies wherever it sits in a rotation list."""
    position = data.draw(st.integers(0, len(others)), label="position")
    rotation: list[str | bytes] = [*others[:position], secret, *others[position:]]
    verify(body, sign(body, secret), rotation)


def test_bytearray_and_memoryview_bodies_with_a_bytes_signature_verify() -> None:
    """verify() takes the body as bytearray or memoryview and the signature as bytes."""
    signature = sign(BODY, SECRET).encode("ascii")
    other = "another secret"

    # Outside the typed API, but accepted at runtime as the raw body and signature.
    verify(bytearray(BODY), signature, SECRET)  # type: ignore[arg-type]  # see above
    verify(memoryview(BODY), signature, [other, SECRET])  # type: ignore[arg-type]  # see above
    with pytest.raises(InvalidSignatureError):
        verify(bytearray(BODY), signature, other)  # type: ignore[arg-type]  # see above


def test_a_matching_signature_is_not_examined_further(monkeypatch: pytest.MonkeyPatch) -> None:
    """The format of a signature is only examined on a mismatch, to name the error."""

    def examined(signature: object) -> bytes:
        msg = "the signature's format was examined"
        raise AssertionError(msg)

    monkeypatch.setattr(_verify, "signature_bytes", examined)
    signature = sign(BODY, SECRET)
    verify(BODY, signature, SECRET)
    verify(BODY, signature.encode("ascii"), SECRET)  # type: ignore[arg-type]  # bytes work too
    with pytest.raises(AssertionError, match="examined"):
        verify(BODY, sign(BODY, "another secret"), SECRET)
