"""The step-parts benchmark's 8-bit dropout mask is dropout at the asked rate, checked by counting."""

import numpy as np
import pytest


def test_eight_bit_dropout_keeps_the_asked_share_and_scales_what_it_keeps():
    tf = pytest.importorskip("tensorflow")
    from benchmarks.step_parts import eight_bit_dropout

    shape = (31, 13, 13, 33)  # 172,887 values: not a whole number of 4-byte draws
    inputs = tf.fill(shape, 2.0)
    outputs = eight_bit_dropout(inputs, 0.25, tf.constant([7, 9], tf.int64)).numpy()
    kept = outputs != 0
    assert outputs.shape == shape
    assert np.allclose(outputs[kept], 2.0 / 0.75)
    # The binomial sd of the kept share over 172,887 values is 0.001: 0.005 is five of them.
    assert kept.mean() == pytest.approx(0.75, abs=0.005)
    # The same seed, the same mask; another seed, another mask.
    again = eight_bit_dropout(inputs, 0.25, tf.constant([7, 9], tf.int64)).numpy()
    other = eight_bit_dropout(inputs, 0.25, tf.constant([7, 10], tf.int64)).numpy()
    assert np.array_equal(outputs, again) and not np.array_equal(outputs, other)
