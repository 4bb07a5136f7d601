"""The IDX file format of (Fashion-)MNIST, parsed with full validation.

An IDX file is a big-endian header (two zero bytes, a type code, the number of
dimensions, then one uint32 per dimension) followed by the data. Fashion-MNIST
uses unsigned bytes: magic 2051 for images (N x 28 x 28), 2049 for labels (N).
"""

import struct

import numpy as np

from study.errors import DataError

UNSIGNED_BYTE = 0x08
IMAGES_MAGIC = 0x00000803  # 2051: unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # 2049: unsigned bytes, 1 dimension


class IdxError(DataError):
    """A file that is not the IDX file it should be; str() names the file and the fault."""


def parse_idx(raw, name, expected_magic):
    """Returns the uint8 array held by the IDX bytes `raw`, checking every header field."""
    if len(raw) < 4:
        raise IdxError(f"{name}: {len(raw)} bytes, too short for an IDX header")
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != expected_magic:
        raise IdxError(f"{name}: magic number {magic}, expected {expected_magic}")
    dimensions = magic & 0xFF
    header_size = 4 + 4 * dimensions
    if len(raw) < header_size:
        raise IdxError(f"{name}: {len(raw)} bytes, too short for a header of {dimensions} dimensions")
    shape = struct.unpack(f">{dimensions}I", raw[4:header_size])
    expected_size = header_size + int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected_size:
        state = "truncated" if len(raw) < expected_size else "has trailing bytes"
        raise IdxError(f"{name}: {state}: {len(raw)} bytes, the header {tuple(shape)} needs {expected_size}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def parse_images(raw, name, image_size=28):
    images = parse_idx(raw, name, IMAGES_MAGIC)
    if images.shape[1:] != (image_size, image_size):
        raise IdxError(
            f"{name}: images of {images.shape[1]}x{images.shape[2]} pixels, "
            f"expected {image_size}x{image_size}"
        )
    return images


def parse_labels(raw, name, num_classes=10):
    labels = parse_idx(raw, name, LABELS_MAGIC)
    if labels.size and labels.max() >= num_classes:
        bad = np.flatnonzero(labels >= num_classes)
        raise IdxError(
            f"{name}: label {labels[bad[0]]} at index {bad[0]} "
            f"({bad.size} labels outside 0-{num_classes - 1})"
        )
    return labels
