"""study.data.idx: IDX bytes round trip, and every malformed file rejected with its name."""

import struct

import numpy as np
import pytest

from study.data.idx import IdxError, parse_images, parse_labels
from tests.tiny_data import encode_idx

NAME = "some/dir/train-images-idx3-ubyte"


def images(count=3, height=28, width=28):
    return np.arange(count * height * width, dtype=np.int64).reshape(count, height, width).astype(np.uint8)


def test_round_trip_images_and_labels():
    x = images(5)
    y = np.array([0, 9, 3, 3, 7], dtype=np.uint8)
    raw_x, raw_y = encode_idx(x), encode_idx(y)
    # Header: 0, 0, type 0x08, 3 dimensions, then the big-endian sizes.
    assert raw_x[:16] == bytes([0, 0, 8, 3]) + struct.pack(">III", 5, 28, 28)
    assert len(raw_x) == 16 + 5 * 28 * 28 and len(raw_y) == 8 + 5
    parsed_x, parsed_y = parse_images(raw_x, NAME), parse_labels(raw_y, NAME)
    assert parsed_x.dtype == np.uint8 and parsed_x.shape == (5, 28, 28)
    np.testing.assert_array_equal(parsed_x, x)
    np.testing.assert_array_equal(parsed_y, y)


def test_encode_rejects_non_bytes():
    with pytest.raises(ValueError, match="int64"):
        encode_idx(np.zeros(3, dtype=np.int64))


@pytest.mark.parametrize(
    "raw, parse, message",
    [
        (encode_idx(np.zeros(4, dtype=np.uint8)), parse_images, "magic number 2049, expected 2051"),
        (encode_idx(images(1)), parse_labels, "magic number 2051, expected 2049"),
        (b"\x00\x00\x08", parse_images, "3 bytes, too short for an IDX header"),
        (encode_idx(images(1))[:10], parse_images, "10 bytes, too short for a header of 3 dimensions"),
        (
            encode_idx(images(2))[:-1],
            parse_images,
            r"truncated: 1583 bytes, the header \(2, 28, 28\) needs 1584",
        ),
        (
            encode_idx(images(2)) + b"\x00",
            parse_images,
            r"has trailing bytes: 1585 bytes, the header \(2, 28, 28\) needs 1584",
        ),
        (encode_idx(np.arange(3, dtype=np.uint8))[:-2], parse_labels, "truncated"),
        (encode_idx(images(2, 27, 28)), parse_images, "images of 27x28 pixels, expected 28x28"),
        (encode_idx(images(2, 28, 29)), parse_images, "images of 28x29 pixels, expected 28x28"),
        (
            encode_idx(np.array([1, 9, 10, 255], dtype=np.uint8)),
            parse_labels,
            r"label 10 at index 2 \(2 labels outside 0-9\)",
        ),
    ],
    ids=[
        "labels-as-images",
        "images-as-labels",
        "short-header",
        "short-dimensions",
        "truncated",
        "trailing",
        "truncated-labels",
        "27x28",
        "28x29",
        "label-10",
    ],
)
def test_corrupt_files_raise_naming_the_file(raw, parse, message):
    with pytest.raises(IdxError, match=message) as caught:
        parse(raw, NAME)
    assert str(caught.value).startswith(NAME + ": ")


def test_labels_up_to_nine_and_empty_files_pass():
    np.testing.assert_array_equal(
        parse_labels(encode_idx(np.arange(10, dtype=np.uint8)), NAME), np.arange(10)
    )
    assert parse_labels(encode_idx(np.zeros(0, dtype=np.uint8)), NAME).shape == (0,)
    assert parse_images(encode_idx(np.zeros((0, 28, 28), dtype=np.uint8)), NAME).shape == (0, 28, 28)
