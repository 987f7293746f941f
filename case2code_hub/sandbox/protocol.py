"""Length-prefixed, size-capped frames: the only format results travel in (never pickle).

A frame is a 4-byte big-endian length, then the body. A plain body is compact UTF-8 JSON. A body
that carries a long list of strings (a task's inputs, a batch's outputs) is *split*: the high bit
of the length is set, and the body is a 4-byte length of a JSON header, the header, then the
strings' UTF-8 text end to end; the header names the key the strings belong to and their lengths
(``"~": [key, [len, ...]]``). JSON escapes and scans every character of every string, three times
on the way from a child to the parent; the split form copies the text as it is and cuts it by
the lengths, which also makes the lengths checkable before any string is built.
"""

from __future__ import annotations

import itertools
import json
import os
import struct
from typing import Iterator

_HEADER = struct.Struct(">I")
# Saved at import, before any user code runs in a child that imports us: a function may replace
# builtins or json's functions for its own purposes, and its results must still be framed right.
_len, _list, _map, _dumps, _pack = len, list, map, json.dumps, _HEADER.pack
HEADER_SIZE = _HEADER.size
SPLIT = 1 << 31
_SIZE = SPLIT - 1
SPLIT_KEY = "~"
# Largest frame a zygote or a session child reads as a task (its inputs ride in it).
TASK_FRAME_CAP = 256 << 20


class ProtocolError(Exception):
    """A frame that is too large, truncated, or not the JSON object we expect."""


def frame(body: bytes) -> bytes:
    """A frame around an already encoded JSON body."""
    return _HEADER.pack(len(body)) + body


def encode(message: dict) -> bytes:
    """One frame: 4-byte big-endian length, then compact UTF-8 JSON."""
    body = _dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return _pack(_len(body)) + body


def encode_split(header: dict, key: str, strings: list[str]) -> bytes:
    """One split frame: ``header`` as JSON plus ``strings`` (which the reader puts under ``key``)."""
    return split_frame(header, key, _list(_map(_len, strings)), "".join(strings).encode("utf-8", "surrogatepass"))


def split_frame(header: dict, key: str, lengths: list[int], text: bytes) -> bytes:
    """A split frame from already encoded text and the lengths (in characters) of its strings."""
    head = _dumps({**header, SPLIT_KEY: [key, lengths]}, ensure_ascii=False,
                  separators=(",", ":")).encode("utf-8", "surrogatepass")
    return _pack(SPLIT | (HEADER_SIZE + _len(head) + _len(text))) + _pack(_len(head)) + head + text


def write_all(fd: int, data: bytes) -> None:
    """Write every byte to a blocking fd."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exact(fd: int, size: int) -> bytes | None:
    """Exactly ``size`` bytes from a blocking fd, or ``None`` on end of file."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, *, max_size: int) -> dict | None:
    """One frame from a blocking fd; ``None`` on a clean end of file."""
    header = read_exact(fd, HEADER_SIZE)
    if header is None:
        return None
    (word,) = _HEADER.unpack(header)
    size = word & _SIZE
    if size > max_size:
        raise ProtocolError(f"frame of {size} bytes is over the {max_size}-byte cap")
    body = read_exact(fd, size)
    if body is None:
        raise ProtocolError("end of file inside a frame")
    return _decode_split(body)[0] if word & SPLIT else _decode(body)


def _decode(body: bytes, *, header: bool = False) -> dict:
    try:
        message = json.loads(body.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    if SPLIT_KEY in message and not header:
        # Reserved: a reader trusts "~" to hold the checked lengths of a split frame's text.
        raise ProtocolError(f"a plain frame may not carry the key {SPLIT_KEY!r}")
    return message


def _decode_split(body: bytes, cut: bool = True) -> tuple[dict, bytes]:
    """The message of a split frame's body, and the body's text part (UTF-8)."""
    if len(body) < HEADER_SIZE:
        raise ProtocolError("split frame without its header")
    (head_size,) = _HEADER.unpack_from(body)
    if head_size > len(body) - HEADER_SIZE:
        raise ProtocolError("split frame's header is longer than the frame")
    message = _decode(body[HEADER_SIZE:HEADER_SIZE + head_size], header=True)
    split = message.pop(SPLIT_KEY, None)
    if type(split) is not list or len(split) != 2 or type(split[0]) is not str or type(split[1]) is not list:
        raise ProtocolError("split frame without its key and lengths")
    key, lengths = split
    raw = body[HEADER_SIZE + head_size:]
    if any(type(n) is not int or n < 0 for n in lengths):
        raise ProtocolError("split frame's lengths are not counts")
    if not cut and raw.isascii():
        text = None  # the relay passes ASCII on as it is: one byte per character, nothing to decode
        size = len(raw)
    else:
        try:
            text = raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"split frame's text is bad: {exc}") from None
        size = len(text)
    if sum(lengths) != size:
        raise ProtocolError("split frame's lengths do not add up to its text")
    message[SPLIT_KEY] = lengths  # the checked lengths, for a relay that forwards the text as it is
    message[key] = None if text is None else cut_text(text, lengths)
    return message, raw


def cut_text(text: str, lengths: list[int]) -> list[str]:
    """The strings of a split frame: ``text`` cut at the (checked) ``lengths``."""
    ends = list(itertools.accumulate(lengths))
    return [text[start:end] for start, end in zip(itertools.chain((0,), ends), ends)]


class FrameBuffer:
    """Accumulates bytes from a non-blocking reader and yields complete frames."""

    def __init__(self, *, max_size: int, cut: bool = True) -> None:
        self.max_size = max_size
        self.cut = cut  # False: a split frame's ASCII text is not cut into strings (its list is None)
        self._data = bytearray()

    def feed(self, chunk: bytes) -> list[dict]:
        """Add ``chunk``; return the frames now complete. Raises ProtocolError on a bad frame."""
        return [message for message, _ in self.feed_with_bodies(chunk)]

    def feed_with_bodies(self, chunk: bytes) -> Iterator[tuple[dict, bytes]]:
        """Like ``feed``, with each frame's body (the bytes it was decoded from; for a split frame,
        the text part alone, and the message keeps the checked lengths under ``"~"``).

        A generator: each frame is handed over before the next is read, so a reader sees every good
        frame that came before a bad one (the zygote must see a child's ``armed`` even when the
        function's garbage follows it in the same read).
        """
        self._data += chunk
        while len(self._data) >= HEADER_SIZE:
            (word,) = _HEADER.unpack_from(self._data)
            size = word & _SIZE
            if size > self.max_size:
                raise ProtocolError(f"frame of {size} bytes is over the {self.max_size}-byte cap")
            end = HEADER_SIZE + size
            if len(self._data) < end:
                break
            body = bytes(self._data[HEADER_SIZE:end])
            del self._data[:end]
            if word & SPLIT:
                yield _decode_split(body, self.cut)
            else:
                yield _decode(body), body

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still held."""
        return len(self._data)
