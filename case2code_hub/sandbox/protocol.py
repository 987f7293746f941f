"""Length-prefixed, size-capped JSON frames: the only format results travel in (never pickle)."""

from __future__ import annotations

import json
import os
import struct

_HEADER = struct.Struct(">I")
HEADER_SIZE = _HEADER.size


class ProtocolError(Exception):
    """A frame that is too large, truncated, or not the JSON object we expect."""


def frame(body: bytes) -> bytes:
    """A frame around an already encoded JSON body."""
    return _HEADER.pack(len(body)) + body


def encode(message: dict) -> bytes:
    """One frame: 4-byte big-endian length, then compact UTF-8 JSON."""
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return _HEADER.pack(len(body)) + body


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
    (size,) = _HEADER.unpack(header)
    if size > max_size:
        raise ProtocolError(f"frame of {size} bytes is over the {max_size}-byte cap")
    body = read_exact(fd, size)
    if body is None:
        raise ProtocolError("end of file inside a frame")
    return _decode(body)


def _decode(body: bytes) -> dict:
    try:
        message = json.loads(body.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"frame is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message


class FrameBuffer:
    """Accumulates bytes from a non-blocking reader and yields complete frames."""

    def __init__(self, *, max_size: int) -> None:
        self.max_size = max_size
        self._data = bytearray()

    def feed(self, chunk: bytes) -> list[dict]:
        """Add ``chunk``; return the frames now complete. Raises ProtocolError on a bad frame."""
        return [message for message, _ in self.feed_with_bodies(chunk)]

    def feed_with_bodies(self, chunk: bytes) -> list[tuple[dict, bytes]]:
        """Like ``feed``, with each frame's JSON body (the bytes it was decoded from)."""
        self._data += chunk
        frames = []
        while len(self._data) >= HEADER_SIZE:
            (size,) = _HEADER.unpack_from(self._data)
            if size > self.max_size:
                raise ProtocolError(f"frame of {size} bytes is over the {self.max_size}-byte cap")
            end = HEADER_SIZE + size
            if len(self._data) < end:
                break
            body = bytes(self._data[HEADER_SIZE:end])
            del self._data[:end]
            frames.append((_decode(body), body))
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still held."""
        return len(self._data)
