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


def test_fused_batch_norm_is_the_same_batch_norm_as_keras_layer():
    # The two ways step_parts times must compute one function: the same outputs and gradients, to rounding.
    tf = pytest.importorskip("tensorflow")
    from benchmarks.step_parts import batch_norm_ways

    shape = (8, 5, 5, 3)
    inputs = tf.random.stateless_normal(shape, [1, 2]) * 3.0 + 1.5
    upstream = tf.random.stateless_normal(shape, [3, 4])
    (keras_outputs, keras_gradients), (fused_outputs, fused_gradients) = (
        way(inputs, upstream) for way in batch_norm_ways(shape).values()
    )
    # By hand: each channel centred on its batch mean, over the biased sd with epsilon 1e-3 (gamma 1, beta 0).
    x = inputs.numpy()
    expected = (x - x.mean(axis=(0, 1, 2))) / np.sqrt(x.var(axis=(0, 1, 2)) + 1e-3)
    assert np.allclose(keras_outputs.numpy(), expected, atol=1e-5)
    assert np.allclose(fused_outputs.numpy(), expected, atol=1e-5)
    for keras_gradient, fused_gradient in zip(keras_gradients, fused_gradients):
        assert np.allclose(keras_gradient.numpy(), fused_gradient.numpy(), atol=1e-4)
    # The gradient of beta is the upstream gradient summed over all but the channel.
    assert np.allclose(fused_gradients[2].numpy(), upstream.numpy().sum(axis=(0, 1, 2)), atol=1e-4)
