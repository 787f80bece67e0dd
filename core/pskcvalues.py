"""One PSKC value (a `<Secret>`, `<Counter>`, ... or the draft format's `<Data Name=...>`) read
exactly as python-pskc's `PSKCParser.parse_data` reads it, with ElementTree's own search.

python-pskc's reading goes through its find helpers (three Python calls, a generator and a
namespace map for each element looked up); on a vendor's file of 80,000 keys that was a quarter
of the import. The rules are python-pskc's, line for line, and
tests/unit/test_pskc_values.py checks that both readings store the same thing (or fail alike)
for every shape of value it generates; the conversions themselves are python-pskc's.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Callable

from pskc.key import EncryptedIntegerValue, EncryptedValue, Key
from pskc.parser import plain2int

# A plain tag without a namespace map is searched in C (core.pskcxml's elements are ET.Element
# subclasses whose own findall takes paths).
_child = ET.Element.find
_children = ET.Element.findall


def under(element: ET.Element, parent: str, tag: str) -> ET.Element | None:
    """What python-pskc's `find(element, "A/B")` gives: the first B under any A."""
    for middle in _children(element, parent):
        found = _child(middle, tag)
        if found is not None:
            return found
    return None


def _text(element: ET.Element | None) -> str | None:
    # python-pskc's findtext: no element or no text is None; whitespace only is "".
    return element.text.strip() if element is not None and element.text else None


def _binary(element: ET.Element | None) -> bytes | None:
    # python-pskc's findbin: base64 as binascii reads it (characters outside the alphabet dropped).
    text = _text(element)
    return base64.b64decode(text) if text else None


def read_value(key: Key, field: str | None, element: ET.Element) -> None:
    """Store `element`'s value on `key` under `field`, as `PSKCParser.parse_data` does."""
    encryption = key.device.pskc.encryption
    plain2value: Callable[[str], object] = base64.b64decode if field == "secret" else plain2int
    sealed_kind = EncryptedValue if field == "secret" else EncryptedIntegerValue
    plain_value: object = None
    cipher_value: bytes | None = None
    algorithm: str | None = None
    plain_text = _text(_child(element, "PlainValue"))
    if plain_text is not None:
        plain_value = plain2value(plain_text)
    encrypted = _child(element, "EncryptedValue")
    if encrypted is not None:
        cipher_value = _binary(under(encrypted, "CipherData", "CipherValue"))
        method = _child(encrypted, "EncryptionMethod")
        if method is not None:
            algorithm = method.attrib.get("Algorithm")
        scheme = under(encrypted, "EncryptionMethod", "EncryptionScheme")
        if scheme is not None:
            algorithm = scheme.attrib.get("Algorithm") or algorithm
        if not encryption.algorithm and algorithm:
            encryption.algorithm = algorithm
    mac = _child(element, "ValueMAC")
    mac_value = _binary(mac if mac is not None else _child(element, "ValueDigest"))
    legacy = _child(element, "Value")
    legacy_text = _text(legacy)
    if legacy_text is not None:
        if encryption.algorithm and mac_value:
            cipher_value = _binary(legacy)
        else:
            plain_value = plain2value(legacy_text)
    if plain_value is not None:
        setattr(key, field, plain_value)  # type: ignore[arg-type]  # None raises, as in python-pskc
    elif cipher_value:
        setattr(key, field, sealed_kind(cipher_value, mac_value, algorithm))  # type: ignore[arg-type]
