"""PSKC XML read package by package, for core.pskcfile.

A vendor's file can hold tens of thousands of KeyPackages (the size cap allows about 80,000):
it is read as a stream, each KeyPackage whole and then dropped. The values of a key are read
as python-pskc's own PSKCParser.parse_data reads them (core.pskcvalues), the reading its
decryption relies on.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pskc import PSKC
from pskc.device import Device
from pskc.exceptions import PSKCError
from pskc.key import Key
from pskc.parser import PSKCParser
from pskc.xml import getint

from core.errors import ImportRejected
from core.pskcvalues import read_value, under

PACKAGES = ("KeyPackage", "Device")  # RFC 6030, and the draft container format
# What python-pskc reads from the container itself; anything else outside a package is inert.
HEADER = ("EncryptionKey", "EncryptionMethod", "MACMethod", "DigestMethod", "MACAlgorithm")


def local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class _Element(ET.Element):
    """An element named by its local name, as python-pskc renames every element before reading,
    whose plain child paths (`Data/Secret`, the only kind python-pskc asks for) are found by
    ElementTree's own C search, one step at a time: python-pskc passes its namespace map with
    every search, which sends a path through ElementPath's general (Python) machinery, and that
    took most of the time of a large file. Any other path is left to ElementPath."""

    __slots__ = ()

    def findall(self, path: str, namespaces: dict[str, str] | None = None) -> list[ET.Element]:
        try:
            steps = _PATHS[path]
        except KeyError:
            steps = _PATHS.setdefault(path, _steps(path))
        if steps is None:
            return super().findall(path, namespaces)
        if len(steps) == 1:
            return _child_search(self, steps[0])
        found: list[ET.Element] = [self]
        for step in steps:
            found = [child for element in found for child in _child_search(element, step)]
        return found


# The C method itself: a plain tag with no namespace map is searched in C, child by child.
_child_search = ET.Element.findall
_STEP = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_PATHS: dict[str, tuple[str, ...] | None] = {}


def _steps(path: str) -> tuple[str, ...] | None:
    """`A/B` as ("A", "B"), "." as (); None for anything ElementPath must read."""
    parts = () if path == "." else tuple(path.split("/"))
    return parts if all(_STEP.fullmatch(p) for p in parts) else None


_NAMES_KEPT = 256


class Document:
    """The container read as a stream: each KeyPackage is handed over whole and then dropped, so
    memory does not grow with the file; the other children of the container (its header) are kept."""

    CHUNK = 1 << 16

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.root: ET.Element | None = None
        self.head: list[ET.Element] = []
        self.header_after_packages = False
        self.proved_safe = False  # defusedxml has read the bytes up to the top element: no DTD

    def packages(self) -> Iterator[ET.Element]:
        """Every top-level KeyPackage, parsed with every DTD refused, so no entity can expand
        (billion laughs, XXE). Fed in chunks to expat, with no per-element events: after each
        chunk every child of the container but the last is complete. XML allows a DTD only
        before the top element, and without one any entity reference but the five predefined
        ones is an error: so once defusedxml has read these bytes up to the top element's start
        (`_refuse_dtd`), the reading uses ElementTree's own (C) parser, which spends far less per
        element than defusedxml's Python one."""
        made: list[ET.Element] = []
        names: dict[str, str] = {}  # a file's few tags, each cut to its local name once

        def first(tag: str, attrib: dict[str, str]) -> ET.Element:
            try:
                return _Element(names[tag], attrib)
            except KeyError:
                name = tag[tag.rfind("}") + 1 :]  # python-pskc reads local names
                if len(names) < _NAMES_KEPT:  # a hostile file's endless new tags are not all kept
                    names[tag] = name
                e = _Element(name, attrib)
                if not made:
                    made.append(e)  # the first element made is the container (its tag is new)
                return e

        self.root, self.head = None, []
        seen_package = False
        try:
            if not self.proved_safe:
                self._refuse_dtd()
            builder = ET.TreeBuilder(element_factory=first)
            parser = ET.XMLParser(target=builder)  # noqa: S314 (defusedxml read the prolog: no DTD)
            for start in range(0, len(self.data) + 1, self.CHUNK):
                end = start + self.CHUNK
                if end <= len(self.data):
                    parser.feed(self.data[start:end])
                    keep = 1  # the last child may still be open
                else:
                    parser.feed(self.data[start:])
                    parser.close()
                    keep = 0
                if not made:
                    continue
                self.root = root = made[0]
                done = len(root) - keep
                for child in root[:done]:
                    if local(child.tag) in PACKAGES:
                        seen_package = True
                        yield child
                    else:
                        if seen_package and local(child.tag) in HEADER:
                            self.header_after_packages = True
                        self.head.append(child)
                if done > 0:
                    del root[:done]
        except DefusedXmlException:
            raise ImportRejected(
                "The PSKC file contains a DTD or entity declarations, which are refused "
                "(they can be used to attack the importer)."
            ) from None
        except ET.ParseError as e:
            line, column = e.position
            raise ImportRejected(f"The file is not well-formed XML (line {line}, column {column}).") from None
        except ImportRejected:
            raise
        except Exception as e:  # expat raises odd types for odd encodings; none may escape
            raise ImportRejected(f"The file is not readable XML ({type(e).__name__}).") from None

    def _refuse_dtd(self) -> None:
        """defusedxml reads the bytes up to the top element's start, the only place a DTD can be."""
        opened: list[str] = []

        def element(tag: str, attrib: dict[str, str]) -> ET.Element:
            opened.append(tag)
            return ET.Element(tag, attrib)

        parser = SafeET.DefusedXMLParser(
            target=ET.TreeBuilder(element_factory=element), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        for start in range(0, len(self.data), self.CHUNK):
            parser.feed(self.data[start : start + self.CHUNK])
            if opened:
                self.proved_safe = True
                return
        parser.close()  # no element at all: expat says what is wrong

    def header(self) -> ET.Element:
        """The container element without its packages, as read so far."""
        assert self.root is not None
        head = _Element(self.root.tag, self.root.attrib)
        head.extend(self.head)
        return head


def library_words(error: Exception) -> str:
    """python-pskc's own reason, which quotes values of the file (`'Unsupported PRF: %r'`): cut
    short, and any long run of key-like characters replaced, so no seed can ride along."""
    text = re.sub(r"[A-Za-z0-9+/=_-]{16,}", "(value not shown)", str(error))
    return text if len(text) <= 80 else text[:77] + "..."


# Where python-pskc's PSKCParser.parse_key looks for values (RFC 6030 <Data> children, and the
# draft format's <Data Name="...">), each read as python-pskc's parse_data reads it.
_DATA = (
    ("secret", "Secret"),
    ("counter", "Counter"),
    ("time_offset", "Time"),
    ("time_interval", "TimeInterval"),
    ("time_drift", "TimeDrift"),
)
_NAMED = {"secret": "secret", "counter": "counter", "time": "time_offset", "time_interval": "time_interval"}


def _key_fields(key: Key, key_elm: ET.Element) -> None:
    """The rest of what `_pskc_key` uses, read as python-pskc's PSKCParser.parse_key reads it
    (its full reading of every descriptive field took most of a large file's time)."""
    key.algorithm = key_elm.get("Algorithm") or key_elm.get("KeyAlgorithm") or key_elm.get("SecretAlgorithm")
    key.algorithm_suite = _text(key_elm, "AlgorithmParameters/Suite")
    response_format = _first(key_elm, "AlgorithmParameters/ResponseFormat", "Usage/ResponseFormat")
    if response_format is not None:
        key.response_encoding = (
            response_format.get("Encoding") or response_format.get("Format") or response_format.get("format")
        )
        key.response_length = getint(response_format, "Length") or getint(response_format, "length")
    policy = key_elm.find("Policy")
    if policy is not None:
        # python-pskc's reading of the policy, but its dates (python-pskc's findtime: the text,
        # stripped, through dateutil) each parsed once per distinct text: a vendor's batch gives
        # its keys a handful of dates, and dateutil spends about a millisecond on each.
        undated = _Element(policy.tag, policy.attrib)
        undated.extend(child for child in policy if child.tag not in _DATES)
        PSKCParser.parse_policy(key.policy, undated)
        key.policy.start_date = _time(_text(policy, "StartDate"))
        key.policy.expiry_date = _time(_text(policy, "ExpiryDate"))
    key.policy.start_date = _time(_text(key_elm, "StartDate")) or key.policy.start_date
    key.policy.expiry_date = _time(_text(key_elm, "ExpiryDate")) or key.policy.expiry_date


# python-pskc's find and findtext (the first element found along any of the paths; its text,
# stripped) with ElementTree's own search: python-pskc's go through three Python calls and a
# namespace map each, and a large file makes millions of them. Values are read as python-pskc
# reads them by core.pskcvalues; the policy's other fields by python-pskc's own parse_policy.
def _first(element: ET.Element, *paths: str) -> ET.Element | None:
    for path in paths:
        if "/" in path:  # "A/B": the first B under any A, as ElementPath finds it
            parent, tag = path.split("/")
            under_parent = under(element, parent, tag)
            if under_parent is not None:
                return under_parent
        else:
            one = element.find(path)
            if one is not None:
                return one
    return None


def _text(element: ET.Element, *paths: str) -> str | None:
    found = _first(element, *paths)
    return found.text.strip() if found is not None and found.text else None


_DATES = ("StartDate", "ExpiryDate")


@lru_cache(maxsize=256)
def _parsed_time(text: str) -> datetime:
    import dateutil.parser  # as python-pskc does: only a file with dates needs it

    parsed: datetime = dateutil.parser.parse(text)
    return parsed


def _time(text: str | None) -> datetime | None:
    return _parsed_time(text) if text else None


def read_package(container: PSKC, package: ET.Element) -> Device:
    """A package's serial and values as python-pskc reads them (PSKCParser.parse_data, through
    core.pskcvalues), and the key's other fields that the kiosk uses."""
    try:
        device = container.add_device()
        info = _first(package, "DeviceInfo", "DeviceId")
        if info is not None:
            device.serial = _text(info, "SerialNo")
            # The vendor and model name the hardware for its FIPS 140 certificate (1311.115(b)).
            device.manufacturer = _text(info, "Manufacturer")
            device.model = _text(info, "Model")
        for key_elm in [*_child_search(package, "Key"), *_child_search(package, "Secret")]:
            key = device.add_key()
            data = key_elm.find("Data")
            if data is not None:
                first: dict[str, ET.Element] = {}
                for child in data:  # what find(data, tag) gives: the first child so named
                    first.setdefault(child.tag, child)
                for name, tag in _DATA:
                    if tag in first:
                        read_value(key, name, first[tag])
            for data in _child_search(key_elm, "Data"):
                named = data.get("Name")
                if named:
                    read_value(key, _NAMED.get(named.lower()), data)
            _key_fields(key, key_elm)
        return device
    except PSKCError as e:
        raise ImportRejected(f"The PSKC container is not valid: {library_words(e)}.") from None
    except Exception as e:  # malformed numbers, booleans, dates, base64 inside the XML
        raise ImportRejected(f"The PSKC container has a malformed value ({type(e).__name__}).") from None


def new_container(header: ET.Element) -> PSKC:
    if local(header.tag) != "KeyContainer":
        raise ImportRejected("The XML file is not a PSKC container: its top element is not <KeyContainer>.")
    container = PSKC()
    try:
        PSKCParser.parse_document(container, header)
    except PSKCError as e:
        raise ImportRejected(f"The PSKC container is not valid: {library_words(e)}.") from None
    except Exception as e:
        raise ImportRejected(f"The PSKC container has a malformed value ({type(e).__name__}).") from None
    return container
