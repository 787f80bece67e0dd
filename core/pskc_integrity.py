"""Whether a PSKC container can be trusted, decided before any seed leaves it (core.pskcfile
reads the keys once this passed).

The rule is file-wide, never per value: when a container encrypts, every encrypted value is
covered by a MAC that verifies (over the ciphertext, as RFC 6030 6.1.1 says, or over the
plaintext, as older drafts and some vendors do), or the whole file is refused. The only values
without a MAC that pass are AES/Camellia/3DES key-wrap ones in a file with no MAC at all: key
wrap (RFC 3394) carries its own integrity check, verified as it is unwrapped. Which algorithm a
value uses is read from python-pskc's own parse, the one that decrypts it, so a renamed method
(PBES2 wrapping CBC) cannot slip past.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pskc import PSKC
from pskc.encryption import algorithm_key_lengths
from pskc.exceptions import DecryptionError, KeyDerivationError
from pskc.key import EncryptedValue, Key

from core.errors import ImportRejected
from core.pskcxml import library_words, local

# A hostile PBKDF2 container could otherwise make the kiosk spin for hours before failing.
MAX_PBKDF2_ITERATIONS = 10_000_000
MAX_PBKDF2_KEY_BYTES = 64
FIELDS = ("secret", "counter", "time_offset", "time_interval", "time_drift")
# python-pskc keeps a value it has not decrypted yet under the field's private name.
_PRIVATE = tuple((name, "_" + name) for name in FIELDS)
_BLOCK = {"aes": 16, "camellia": 16, "tripledes": 8}
MAC_FAILED = (
    "The PSKC file failed its MAC check: it was changed after the vendor made it, or the "
    "passphrase or key is wrong. Nothing was imported."
)


@dataclass(frozen=True)
class _Sealed:
    """One encrypted value as python-pskc will decrypt it."""

    where: str  # "KeyPackage 2 secret"
    value: EncryptedValue
    algorithm: str  # the value's own method, else the container's: what decrypt() uses
    field: int  # its place in FIELDS

    @property
    def cbc(self) -> bool:
        return self.algorithm.lower().endswith("-cbc")


def _asymmetric(root: ET.Element, algorithms: Iterable[str]) -> bool:
    """Seeds encrypted to a public key (RFC 6030 6.2): the kiosk holds no private key for them."""
    if any(a.rsplit("#", 1)[-1].lower().startswith("rsa") for a in algorithms):
        return True
    # Only under <EncryptionKey>: a certificate in a <Signature> signs the file, it does not encrypt it.
    for key_info in (child for child in root if local(child.tag) == "EncryptionKey"):
        if any(local(e.tag) in ("X509Data", "X509Certificate", "RSAKeyValue", "KeyValue") for e in key_info.iter()):
            return True
    return False


def _draft_method_without_iv(root: ET.Element) -> bool:
    """The draft container format names CBC once for the file, with its IV beside it."""
    for child in root:
        if local(child.tag) == "EncryptionMethod" and child.get("Algorithm", "").lower().endswith("-cbc"):
            ivs = [e for e in child if local(e.tag) == "IV"]
            return not ivs or not "".join((ivs[0].text or "").split())
    return False


# --------------------------------------------------------------------------- integrity


def where_in_file(number: int, index: int, keys: int) -> str:
    return f"KeyPackage {number}" + (f" key {index}" if keys > 1 else "")


def stored_values(key: Key) -> tuple[object, ...]:
    """The key's five values as python-pskc stored them (`FIELDS` order): a plain value, an
    `EncryptedValue` not decrypted yet, or None."""
    values = vars(key)
    return tuple(values.get(private) for _, private in _PRIVATE)


def sealed_values(container: PSKC, where: str, values: tuple[object, ...]) -> Iterator[_Sealed]:
    default = container.encryption.algorithm or ""
    for place, (name, value) in enumerate(zip(FIELDS, values, strict=True)):
        if isinstance(value, EncryptedValue):
            yield _Sealed(f"{where} {name}", value, value.algorithm or default, place)


@dataclass
class Census:
    """What the file-wide rules need to know about every encrypted value, gathered in one pass
    without decrypting anything. A value that names no method uses the container's, which
    python-pskc settles from the first value that names one: so methods are kept as written
    and resolved once the whole file has been read."""

    sealed: int = 0
    macked: int = 0
    first_unmacked: str | None = None
    first_plain: str | None = None
    methods: dict[str | None, str] = field(default_factory=dict)  # method as written -> first value using it
    keys: int = 0

    def count(self, values: tuple[object, ...], where: str) -> None:
        self.keys += 1
        if self.first_plain is None and isinstance(values[0], (bytes, bytearray)):
            self.first_plain = where.split(" key ")[0]
        for name, value in zip(FIELDS, values, strict=True):
            if not isinstance(value, EncryptedValue):
                continue
            self.sealed += 1
            self.methods.setdefault(value.algorithm or None, f"{where} {name}")
            if value.mac_value:
                self.macked += 1
            elif self.first_unmacked is None:
                self.first_unmacked = f"{where} {name}"

    def algorithms(self, container: PSKC) -> dict[str, str]:
        """Each method actually used -> the first value using it."""
        default = container.encryption.algorithm or ""
        used: dict[str, str] = {}
        for written, where in self.methods.items():
            used.setdefault(written or default, where)
        return used


def refuse_untrustworthy(container: PSKC, root: ET.Element, census: Census) -> None:
    """The file-wide rules that need no key: checked before anything is decrypted."""
    used = census.algorithms(container)
    if _asymmetric(root, used):
        raise ImportRejected(
            "The PSKC file's seeds are encrypted to a public key (asymmetric key transport), which "
            "the kiosk cannot decrypt. Ask the vendor for the file protected by a pre-shared key "
            "or a passphrase."
        )
    for algorithm, where in used.items():  # in file order
        try:
            algorithm_key_lengths(algorithm)
        except DecryptionError:
            raise ImportRejected(
                f"The PSKC file encrypts {where} with a method the kiosk does not support "
                "(AES, Camellia or 3DES in CBC or key-wrap mode are supported)."
            ) from None
    if census.first_plain is not None:
        raise ImportRejected(
            f"The PSKC file encrypts its seeds, but {census.first_plain} gives its seed unencrypted (or its MAC "
            "was removed), so it may have been swapped in. Nothing was imported; ask the vendor for a new file."
        )
    if _draft_method_without_iv(root):
        raise ImportRejected(
            "The PSKC file names CBC encryption for the whole file but gives no IV with it, so its "
            "seeds cannot be decrypted (this is not tampering). Ask the vendor for the complete file."
        )
    unmacked = census.sealed - census.macked
    if unmacked and unmacked < census.sealed:
        raise ImportRejected(
            f"The PSKC file carries MACs, but {census.first_unmacked} has none, so it cannot be "
            "checked for tampering. Nothing was imported; ask the vendor for a new file."
        )
    if unmacked and not all(re.search(r"#kw-(aes|camellia|tripledes)", a.lower()) for a in used):
        raise ImportRejected(
            "The PSKC file encrypts seeds with CBC but carries no MAC, so it cannot be checked for "
            "tampering; ask the vendor for a file with a MAC."
        )
    if census.sealed and not unmacked and not container.mac.algorithm:
        raise ImportRejected("The PSKC file has MAC values but names no MAC method.")


def _wrong_key_message(passphrase: str | None) -> str:
    what = "passphrase" if passphrase is not None else "pre-shared key"
    return f"The {what} is wrong: the PSKC file's encrypted values do not decrypt with it."


def _mac(container: PSKC, value: bytes) -> bytes:
    try:
        return container.mac.generate_mac(value)
    except DecryptionError:
        raise ImportRejected("The PSKC file uses a MAC algorithm the kiosk does not support.") from None


MacOf = Callable[[bytes], bytes]


def mac_maker(container: PSKC) -> MacOf:
    """python-pskc's MAC over a value, made in OpenSSL: python-pskc hands hmac a hash-making
    function, which takes hmac's pure-Python path (most of the time of verifying a large file).
    The hash is the one whose HMAC of a probe equals python-pskc's own; with none, python-pskc
    makes every MAC."""
    probe = b"which hash does python-pskc use"
    made = _mac(container, probe)
    key = container.mac.key
    if key:
        for name in sorted(hashlib.algorithms_guaranteed):
            with contextlib.suppress(ValueError, TypeError):
                if hmac.compare_digest(hmac.digest(key, probe, name), made):
                    return partial(hmac.digest, bytes(key), digest=name)
    return partial(_mac, container)


def check_mac_key(container: PSKC, passphrase: str | None) -> bytes:
    try:
        mac_key = container.mac.key
    except DecryptionError:
        raise ImportRejected(_wrong_key_message(passphrase)) from None
    except ValueError:  # cryptography's, through python-pskc: shorter than the IV in front of it
        raise ImportRejected(
            "The PSKC file's encrypted MAC key is shorter than one cipher block, so the file is "
            "damaged or incomplete. Nothing was imported; ask the vendor for a new file."
        ) from None
    if not mac_key:
        raise ImportRejected("The PSKC file has MAC values but no MAC key.")
    return bytes(mac_key)


DecryptOf = Callable[[bytes, "str | None"], bytes]
_AES_CBC = re.compile(r"#aes(128|192|256)-cbc\Z")


def decrypter(container: PSKC) -> DecryptOf:
    """python-pskc's decryption of a value (`Encryption.decrypt_value`), with AES-CBC made by
    one cipher object for the file's key: python-pskc builds its cipher and imports its modules
    at every value, which took as long as the rest of reading a key. Any other method, or a key
    whose length does not fit, is left to python-pskc (which refuses it as it always did)."""
    encryption = container.encryption
    key = bytes(encryption.key or b"")
    aes = algorithms.AES(key) if len(key) in (16, 24, 32) else None
    separate_iv = bytes(encryption.iv or b"")

    def decrypt(cipher: bytes, algorithm: str | None) -> bytes:
        named = algorithm or encryption.algorithm or ""
        size = _AES_CBC.search(named)  # as python-pskc compares: case and all
        if aes is None or size is None or int(size.group(1)) != len(key) * 8:
            return encryption.decrypt_value(cipher, algorithm)
        iv, body = (separate_iv, cipher) if separate_iv else (cipher[:16], cipher[16:])
        try:
            decryptor = Cipher(aes, modes.CBC(iv)).decryptor()
            unpadder = padding.PKCS7(128).unpadder()
            return unpadder.update(decryptor.update(body) + decryptor.finalize()) + unpadder.finalize()
        except ValueError:  # a short IV, a partial block, bad padding: what python-pskc reports
            raise DecryptionError("Invalid padding") from None

    return decrypt


def verify_sealed(
    container: PSKC, s: _Sealed, passphrase: str | None, mac: MacOf | None = None, decrypt: DecryptOf | None = None
) -> bytes:
    """The encrypted value decrypts, and its MAC (when the file has MACs) verifies: its plaintext.
    `mac` (from `mac_maker`) makes the MACs and `decrypt` (from `decrypter`) decrypts; by default
    python-pskc does both."""
    mac_of = mac or partial(_mac, container)
    separate_iv = bool(container.encryption.iv)
    cipher = s.value.cipher_value
    expected = s.value.mac_value or b""
    # A separate IV is outside the ciphertext, so only a MAC over the plaintext covers it.
    over_cipher = bool(expected) and not separate_iv and hmac.compare_digest(mac_of(cipher), expected)
    block = next((n for name, n in _BLOCK.items() if name in s.algorithm.lower()), 16)
    try:
        plain = (decrypt or container.encryption.decrypt_value)(cipher, s.value.algorithm)
    except (DecryptionError, ValueError):  # python-pskc lets cryptography's ValueError out for a short IV
        if over_cipher and s.cbc and len(cipher) <= block and not separate_iv:
            raise ImportRejected(
                f"The PSKC file's {s.where} is a single cipher block: the IV that RFC 6030 puts "
                "in front of the ciphertext is missing (this is not tampering). Ask the vendor "
                "for the complete file."
            ) from None
        if expected:
            raise ImportRejected(MAC_FAILED) from None
        raise ImportRejected(_wrong_key_message(passphrase)) from None
    if expected and not over_cipher and not hmac.compare_digest(mac_of(plain), expected):
        raise ImportRejected(MAC_FAILED)
    return bytes(plain)


def unlock_container(container: PSKC, algorithms: Iterable[str], passphrase: str | None, psk: bytes | None) -> None:
    encryption = container.encryption
    derivation = encryption.derivation
    if psk is not None:
        # Checked supported by refuse_untrustworthy; a key must fit every value's method.
        methods = list(algorithms)
        lengths = sorted(set.intersection(*(set(algorithm_key_lengths(a)) for a in methods)))
        if not lengths:  # AES-128 for some values, AES-256 for others: no one key opens both
            need = sorted({n for a in methods for n in algorithm_key_lengths(a)})
            raise ImportRejected(
                "The PSKC file's values are encrypted with methods that need keys of different "
                f"lengths ({' and '.join(str(n) for n in need)} bytes): no single pre-shared key opens "
                "them all. Ask the vendor for the file encrypted with one method."
            )
        if len(psk) not in lengths:
            raise ImportRejected(
                f"The pre-shared key must be {' or '.join(str(n) for n in lengths)} bytes "
                f"for this file's encryption, not {len(psk)}."
            )
        encryption.key = psk
    elif derivation.algorithm:
        if passphrase is None:
            raise ImportRejected("The PSKC file is protected by a passphrase; give the passphrase to import it.")
        if (derivation.pbkdf2_iterations or 0) > MAX_PBKDF2_ITERATIONS or (
            derivation.pbkdf2_key_length or 0
        ) > MAX_PBKDF2_KEY_BYTES:
            raise ImportRejected("The PSKC file asks for an unreasonable PBKDF2 key derivation.")
        try:
            encryption.derive_key(passphrase)
        except KeyDerivationError as e:
            raise ImportRejected(f"The PSKC passphrase cannot be applied: {library_words(e)}.") from None
    else:
        raise ImportRejected("The PSKC file is encrypted with a pre-shared key; give the key (hex) to import it.")
