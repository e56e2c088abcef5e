"""Prometheus's XOR chunk encoding (Gorilla compression), as remote read's STREAMED_XOR_CHUNKS carries it.

A chunk is a 2-byte big-endian sample count, then a bit stream, most significant bit first:

- sample 0: timestamp as a signed varint, value as its 64 raw bits;
- sample 1: timestamp delta as an unsigned varint, value XOR-encoded;
- later samples: the delta of the timestamp delta in a prefix code (`0`, `10`+14 bits, `110`+17 bits,
  `1110`+20 bits, `1111`+64 bits), value XOR-encoded.

A value is XOR-ed with the previous one: `0` when equal; else `1`, then `0` + the meaningful bits when
they fit inside the previous leading/trailing zero window, or `1` + 5 bits of leading zeros + 6 bits of
meaningful bit count (64 written as 0) + the meaningful bits.
"""

from __future__ import annotations

import struct

import numpy as np
import numpy.typing as npt

MAX_SAMPLES = 120
"""Samples per chunk, as Prometheus cuts its own head chunks."""
_MASK64 = (1 << 64) - 1


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _varint(n: int) -> bytes:
    """Go's binary.PutVarint: zig-zag, then unsigned varint."""
    return _uvarint((n << 1) ^ (n >> 63) if n < 0 else n << 1)


def encode(timestamps: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> bytes:
    """One XOR chunk of at most 65535 samples (timestamps ascending, milliseconds).

    The bit stream is one Python integer grown field by field (`acc << width | field`), kept in locals:
    the hot loop of remote read's streamed answers.
    """
    count = len(timestamps)
    if count > 0xFFFF:
        raise ValueError(f"an XOR chunk holds at most 65535 samples, got {count}")
    header = struct.pack(">H", count)
    if count == 0:
        return header
    stamps: list[int] = np.asarray(timestamps, np.int64).tolist()
    bits_of: list[int] = np.ascontiguousarray(values, dtype="<f8").view("<u8").tolist()
    acc = 0
    for byte in _varint(stamps[0]):
        acc = acc << 8 | byte
    acc = acc << 64 | bits_of[0]
    length = 8 * len(_varint(stamps[0])) + 64
    prev_t, prev_v, prev_delta = stamps[0], bits_of[0], 0
    leading, trailing = 0xFF, 0
    for i in range(1, count):
        t, v = stamps[i], bits_of[i]
        delta = t - prev_t
        if i == 1:
            for byte in _uvarint(delta):
                acc = acc << 8 | byte
                length += 8
        else:
            dod = delta - prev_delta
            if dod == 0:
                acc <<= 1
                length += 1
            elif -8191 <= dod <= 8192:
                acc = acc << 16 | 0b10 << 14 | (dod & 0x3FFF)
                length += 16
            elif -65535 <= dod <= 65536:
                acc = acc << 20 | 0b110 << 17 | (dod & 0x1FFFF)
                length += 20
            elif -524287 <= dod <= 524288:
                acc = acc << 24 | 0b1110 << 20 | (dod & 0xFFFFF)
                length += 24
            else:
                acc = acc << 68 | 0b1111 << 64 | (dod & _MASK64)
                length += 68
        prev_delta = delta
        xor = v ^ prev_v
        if xor == 0:
            acc <<= 1
            length += 1
        else:
            lead = min(64 - xor.bit_length(), 31)
            trail = (xor & -xor).bit_length() - 1
            if leading != 0xFF and lead >= leading and trail >= trailing:
                width = 64 - leading - trailing
                acc = acc << (2 + width) | 0b10 << width | xor >> trailing
                length += 2 + width
            else:
                leading, trailing = lead, trail
                width = 64 - lead - trail
                acc = acc << (13 + width) | (0b11 << 11 | lead << 6 | (width & 0x3F)) << width | xor >> trail
                length += 13 + width
        prev_t, prev_v = t, v
    pad = -length % 8
    return header + (acc << pad).to_bytes((length + pad) // 8, "big")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "big")
        self.length = len(data) * 8
        self.pos = 0

    def read(self, count: int) -> int:
        if self.pos + count > self.length:
            raise ValueError("the XOR chunk ends early")
        self.pos += count
        return (self.value >> (self.length - self.pos)) & ((1 << count) - 1)

    def uvarint(self) -> int:
        n = shift = 0
        while True:
            byte = self.read(8)
            n |= (byte & 0x7F) << shift
            if byte < 0x80:
                return n
            shift += 7


def _signed(n: int, bits: int) -> int:
    return n - (1 << bits) if n > 1 << (bits - 1) else n


def decode(chunk: bytes) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(timestamps, values) of one XOR chunk; raises ValueError when it is malformed."""
    if len(chunk) < 2:
        raise ValueError("an XOR chunk starts with a 2-byte sample count")
    (count,) = struct.unpack(">H", chunk[:2])
    reader = _Reader(chunk[2:])
    stamps: list[int] = []
    bits: list[int] = []
    t = delta = v = 0
    leading = trailing = 0
    for i in range(count):
        if i == 0:
            raw = reader.uvarint()
            t = (raw >> 1) ^ -(raw & 1)
            v = reader.read(64)
        else:
            if i == 1:
                delta = reader.uvarint()
            else:
                prefix_len = 0
                while prefix_len < 4 and reader.read(1):
                    prefix_len += 1
                if prefix_len:
                    width = {1: 14, 2: 17, 3: 20, 4: 64}[prefix_len]
                    delta += _signed(reader.read(width), width)
            t += delta
            if reader.read(1):
                if reader.read(1):
                    leading = reader.read(5)
                    significant = reader.read(6) or 64
                    trailing = 64 - leading - significant
                v ^= reader.read(64 - leading - trailing) << trailing
        stamps.append(t)
        bits.append(v & _MASK64)
    return np.array(stamps, np.int64), np.array(bits, np.uint64).view(np.float64)


def chunks(
    timestamps: npt.NDArray[np.int64], values: npt.NDArray[np.float64], size: int = MAX_SAMPLES
) -> list[tuple[int, int, bytes]]:
    """A series cut into XOR chunks of at most `size` samples: (min time, max time, chunk bytes) each."""
    out = []
    for lo in range(0, len(timestamps), size):
        ts, vs = timestamps[lo : lo + size], values[lo : lo + size]
        out.append((int(ts[0]), int(ts[-1]), encode(ts, vs)))
    return out
