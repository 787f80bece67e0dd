"""core.pskcvalues.read_value stores what python-pskc's own PSKCParser.parse_data stores, for
every shape of PSKC value generated here (issue 11: the faster reading must not read differently).

Values are made from the pieces parse_data looks at: <PlainValue>, <EncryptedValue> (with or
without <EncryptionMethod>, <EncryptionScheme> and <CipherData><CipherValue>), <ValueMAC>,
<ValueDigest> and the draft format's <Value>; repeated, out of order, empty, whitespace only,
valid base64, base64 with stray characters, digits, and text that is not base64 at all; with the
container's method set or not; for every field name python-pskc knows and for an unknown one.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st
from pskc import PSKC
from pskc.key import EncryptedValue
from pskc.parser import PSKCParser

from core.pskcvalues import read_value
from core.pskcxml import Document

CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
WRAP = "http://www.w3.org/2001/04/xmlenc#kw-aes128"
BASE64 = ["MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=", " AAECAwQF\nBgcICQ== ", "AAEC*AwQ"]
TEXTS = st.sampled_from([None, "", "   ", *BASE64, "12", "0", "-3", "abc", "A", "AB"])
ALGORITHMS = st.sampled_from([None, "", CBC, WRAP, "urn:unknown"])
FIELDS = st.sampled_from(["secret", "counter", "time_offset", "time_interval", "time_drift", None])


def _leaf(tag: str, text: str | None) -> ET.Element:
    element = ET.Element(tag)
    element.text = text
    return element


@st.composite
def encrypted_values(draw: st.DrawFn) -> ET.Element:
    encrypted = ET.Element("EncryptedValue")
    for _ in range(draw(st.integers(0, 2))):
        method = ET.SubElement(encrypted, "EncryptionMethod")
        if (algorithm := draw(ALGORITHMS)) is not None:
            method.set("Algorithm", algorithm)
        if draw(st.booleans()):
            scheme = ET.SubElement(method, "EncryptionScheme")
            if (inner := draw(ALGORITHMS)) is not None:
                scheme.set("Algorithm", inner)
    for _ in range(draw(st.integers(0, 2))):
        cipher_data = ET.SubElement(encrypted, "CipherData")
        for _ in range(draw(st.integers(0, 2))):
            cipher_data.append(_leaf("CipherValue", draw(TEXTS)))
    return encrypted


@st.composite
def values(draw: st.DrawFn) -> ET.Element:
    data = ET.Element("Secret")
    pieces = st.one_of(
        st.builds(_leaf, st.sampled_from(["PlainValue", "ValueMAC", "ValueDigest", "Value", "Other"]), TEXTS),
        encrypted_values(),
    )
    for piece in draw(st.lists(pieces, max_size=5)):
        data.append(piece)
    return data


def _as_read(xml: str) -> ET.Element:
    """The value's element as core.pskcxml hands it over (its own element class, local names)."""
    document = Document(f"<KeyContainer><KeyPackage>{xml}</KeyPackage></KeyContainer>".encode())
    return next(iter(document.packages()))[0]


def _stored(read: object, field: str | None, data: ET.Element, method: str | None) -> object:
    container = PSKC()
    container.encryption.algorithm = method
    key = container.add_device().add_key()
    try:
        read(key, field, data)  # type: ignore[operator]
    except Exception as e:
        return ("raised", type(e).__name__)
    found = {name: _plain(value) for name, value in vars(key).items() if name.startswith("_")}
    return found, container.encryption.algorithm


def _plain(value: object) -> object:
    if isinstance(value, EncryptedValue):
        return type(value).__name__, value.cipher_value, value.mac_value, value.algorithm
    return type(value).__name__, value


@settings(max_examples=600, deadline=None)
@given(values(), FIELDS, ALGORITHMS)
def test_a_value_is_stored_as_python_pskc_stores_it(data: ET.Element, field: str | None, method: str | None) -> None:
    element = _as_read(ET.tostring(data, encoding="unicode"))
    assert _stored(read_value, field, element, method) == _stored(PSKCParser.parse_data, field, element, method)


def test_the_shapes_that_matter_are_generated() -> None:
    # The property above is only as good as what it sees: an encrypted value with a MAC, a plain
    # value, and a legacy <Value> read as ciphertext are each reached by some drawn example.
    element = _as_read(
        f"<Secret><EncryptedValue><EncryptionMethod Algorithm='{CBC}'/><CipherData><CipherValue>"
        "AAECAwQFBgcICQ==</CipherValue></CipherData></EncryptedValue><ValueMAC>AAEC</ValueMAC></Secret>"
    )
    stored = _stored(read_value, "secret", element, None)
    assert stored == _stored(PSKCParser.parse_data, "secret", element, None)
    assert stored[0]["_secret"] == ("EncryptedValue", bytes(range(10)), b"\x00\x01\x02", CBC)  # type: ignore[index]
    legacy = _as_read("<Counter><Value>AAEC</Value><ValueMAC>AAEC</ValueMAC></Counter>")
    as_cipher = _stored(read_value, "counter", legacy, CBC)
    assert as_cipher == _stored(PSKCParser.parse_data, "counter", legacy, CBC)
    assert as_cipher[0]["_counter"][0] == "EncryptedIntegerValue"  # type: ignore[index]
    # The same <Value> in a file that names no encryption is its plain value, MAC or not.
    as_plain = _stored(read_value, "counter", legacy, None)
    assert as_plain == _stored(PSKCParser.parse_data, "counter", legacy, None)
    assert as_plain[0]["_counter"] == ("int", 258)  # type: ignore[index]


def test_an_unknown_field_with_a_value_fails_as_in_python_pskc() -> None:
    element = _as_read("<Data><PlainValue>MTI=</PlainValue></Data>")
    assert _stored(read_value, None, element, None) == ("raised", "TypeError")
    assert _stored(PSKCParser.parse_data, None, element, None) == ("raised", "TypeError")
