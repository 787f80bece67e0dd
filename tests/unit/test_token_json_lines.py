"""`tokens list --json` (kiosk/cli/tokens.py `_write_json`): whatever text a token's fields hold,
the output is one JSON array, one document per line, ASCII, read back as it was given."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.cli import tokens as cli_tokens

# The bytes orjson writes around and between documents, and the characters JSON escapes.
PIECES = st.sampled_from(["}", "{", ",", '"', "\\", ":", "\n", "\x00", "},{", '},{"', "\u00e9", "\U0001f510", " "])
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=6).map("".join)
DOCUMENT = st.fixed_dictionaries(
    {"algorithm": TEXT, "model": st.one_of(st.none(), TEXT), "serial": TEXT, "vendor": st.one_of(st.none(), TEXT)}
)


@settings(max_examples=300, deadline=None)
@given(st.lists(DOCUMENT, max_size=7), st.integers(min_value=1, max_value=4))
def test_any_text_reads_back_one_document_per_line(documents: list[dict[str, object]], chunk: int) -> None:
    out = io.StringIO()
    was = cli_tokens._WRITE_CHUNK
    cli_tokens._WRITE_CHUNK = chunk  # several chunks, and documents at a chunk's edges
    try:
        cli_tokens._write_json(iter(documents), out)
    finally:
        cli_tokens._WRITE_CHUNK = was
    text = out.getvalue()
    assert text.isascii()
    assert json.loads(text) == documents
    lines = text.splitlines()
    if documents:
        assert lines[0] == "[" and lines[-1] == "]" and len(lines) == len(documents) + 2
        assert [json.loads(line.strip().removesuffix(",")) for line in lines[1:-1]] == documents
    else:
        assert lines == ["[]"]
