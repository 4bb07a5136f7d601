"""study.training.models: parameter counts against a hand formula, mixed precision, and
the learning-rate schedules."""

import os

import pytest

from study import config
from study.training import models

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUDY = config.load(os.path.join(ROOT, "params.yaml"))


def hand_count(spec):
    """Parameters of the network, counted by hand: conv k*k*in*out+out, dense in*out+out, BN 4 per channel."""
    bn = 4 if spec.batch_norm else 0
    size, channels, total = 28, 1, 0
    for filters, kernel in zip(spec.filters, spec.kernel_sizes):
        total += kernel * kernel * channels * filters + filters + bn * filters
        size = (size if spec.padding == "same" else size - kernel + 1) // spec.pool_size
        channels = filters
    flat = size * size * channels
    total += flat * spec.dense_units + spec.dense_units + bn * spec.dense_units
    total += spec.dense_units * 10 + 10
    return total


def test_hand_formula_of_the_baseline_is_annex_1():
    # 320 + 18,496 + 1600*128+128 + 128*10+10, the seed's Annex 1 total.
    assert hand_count(STUDY.spec("baseline")) == 225_034


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


@pytest.mark.parametrize("name", STUDY.variant_names)
def test_parameter_count_of_every_variant(keras, name):
    spec = STUDY.spec(name)
    model = models.build_model(spec, name=name, steps_per_epoch=100)
    assert model.count_params() == hand_count(spec)
    if name == "baseline":
        assert model.count_params() == 225_034
    assert model.output_shape == (None, 10)
    keras.backend.clear_session()


def test_expected_counts_differ_between_variants():
    counts = {name: hand_count(STUDY.spec(name)) for name in STUDY.variant_names}
    # kernel7: 7*7*32+32 + 9*32*64+64 + 1024*128+128 + 1290; batchnorm: + 4 * (32 + 64 + 128).
    assert counts["kernel7"] == 1600 + 18_496 + 131_200 + 1290
    assert counts["batchnorm"] == 225_034 + 4 * (32 + 64 + 128)
    assert counts["sgd"] == counts["sigmoid"] == counts["baseline_lr"] == 225_034


def test_same_padding_count_by_hand():
    # conv 9*32+32 and BN 4*32; conv 9*32*64+64 and BN 4*64; 7*7*64 inputs to
    # Dense256 and its BN; then Dense10. The valid twin sees 5*5*64.
    counts = {name: hand_count(STUDY.spec(name)) for name in ("narrow_valid_padding", "narrow_same_padding")}
    assert counts["narrow_same_padding"] == 320 + 128 + 18_496 + 256 + (3136 * 256 + 256 + 1024) + 2570
    assert counts["narrow_same_padding"] == 825_866
    assert counts["narrow_same_padding"] - counts["narrow_valid_padding"] == (49 - 25) * 64 * 256


def test_optimizer_of_the_spec(keras):
    sgd = models.build_optimizer(STUDY.spec("sgd"))
    assert type(sgd).__name__ == "SGD"
    assert float(sgd.learning_rate) == pytest.approx(0.01) and float(sgd.momentum) == pytest.approx(0.9)
    assert type(models.build_optimizer(STUDY.spec("baseline"))).__name__ == "Adam"


def test_step_decay_is_a_staircase_of_the_step():
    # The published decay: 0.001, halved every 5 epochs, here of 100 steps each.
    spec = STUDY.spec("baseline_lr")
    optimizer = models.build_optimizer(spec, 100)
    rates = [rate_at(optimizer, epoch * 100 + step) for epoch in range(15) for step in (0, 99)]
    assert rates == pytest.approx([0.001] * 10 + [0.0005] * 10 + [0.00025] * 10, rel=1e-6)


def test_constant_learning_rate_without_schedule():
    spec = STUDY.spec("sgd")
    assert models.learning_rate_schedule(spec, 100) == 0.01
    optimizer = models.build_optimizer(spec, 100)
    assert [rate_at(optimizer, step) for step in (0, 700, 1499)] == pytest.approx([0.01] * 3)


def test_mixed_bfloat16_computes_in_bfloat16_but_the_softmax_in_float32(keras):
    spec = STUDY.spec("baseline").replace(precision="mixed_bfloat16")
    model = models.build_model(spec, name="mixed")
    *hidden, last = model.layers
    assert last.compute_dtype == "float32" and last.variable_dtype == "float32"
    for layer in hidden:
        assert layer.compute_dtype == "bfloat16", layer.name
        assert layer.variable_dtype == "float32", layer.name  # weights stay float32
    assert all(weight.dtype == "float32" for weight in model.weights)
    assert model.count_params() == 225_034
    assert model.output_shape == (None, 10)
    # The loss is computed on float32 probabilities.
    import numpy as np

    output = model(np.zeros((2, 28, 28, 1), dtype="float32"))
    assert str(output.dtype) in ("float32", "<dtype: 'float32'>")
    float32 = models.build_model(STUDY.spec("baseline"), name="float32")
    assert {layer.compute_dtype for layer in float32.layers} == {"float32"}
    keras.backend.clear_session()


def test_mixed_bfloat16_batchnorm_keeps_the_parameter_count(keras):
    spec = STUDY.spec("batchnorm").replace(precision="mixed_bfloat16")
    model = models.build_model(spec, name="mixed_bn")
    assert model.count_params() == hand_count(spec) == 225_034 + 4 * (32 + 64 + 128)
    assert model.layers[-1].compute_dtype == "float32"
    assert {layer.compute_dtype for layer in model.layers[:-1]} == {"bfloat16"}
    keras.backend.clear_session()


def rate_at(optimizer, step):
    """The optimizer's learning rate at `step` (its iteration count), as training would read it."""
    optimizer.iterations.assign(step)
    return float(optimizer.learning_rate)


def warmup_cosine_spec(warmup_epochs=1, epochs=4, learning_rate=0.004):
    return STUDY.spec("baseline").replace(
        lr_schedule=config.WarmupCosine(warmup_epochs, "cosine"), epochs=epochs, learning_rate=learning_rate
    )


def test_warmup_then_cosine_schedule(keras):
    import math

    spec = warmup_cosine_spec()
    steps_per_epoch = 10  # 40 steps: 10 of warm-up, then 30 of cosine
    optimizer = models.build_optimizer(spec, steps_per_epoch)

    def rate(step):
        return rate_at(optimizer, step)

    assert rate(0) == 0.0
    assert rate(5) == pytest.approx(0.002, rel=1e-5)  # linear warm-up: half-way, half the rate
    assert rate(10) == pytest.approx(0.004, rel=1e-5)  # the end of warm-up: learning_rate
    # Cosine over the 30 steps after warm-up: lr/2 (1 + cos(pi t/30)).
    assert rate(20) == pytest.approx(0.004 * 0.5 * (1 + math.cos(math.pi / 3)), rel=1e-5)  # 0.003
    assert rate(20) == pytest.approx(0.003, rel=1e-5)
    assert rate(25) == pytest.approx(0.002, rel=1e-5)  # the midpoint of the cosine: half the rate
    assert rate(39) == pytest.approx(0.004 * 0.5 * (1 + math.cos(math.pi * 29 / 30)), rel=1e-4)
    assert rate(39) < 0.004 * 0.01  # the last step: about 0
    rates = [rate(step) for step in range(40)]
    assert rates[:11] == sorted(rates[:11]) and rates[10:] == sorted(rates[10:], reverse=True)


def test_warmup_cosine_without_warmup_and_its_steps_per_epoch(keras):
    spec = warmup_cosine_spec(warmup_epochs=0, epochs=2)
    optimizer = models.build_optimizer(spec, 5)
    assert rate_at(optimizer, 0) == pytest.approx(0.004)  # no warm-up: the full rate at once
    assert rate_at(optimizer, 9) < 0.004 * 0.05
    with pytest.raises(ValueError, match="steps_per_epoch"):
        models.build_optimizer(spec)
    # Every optimizer takes the schedule.
    for optimizer in ("sgd", "rmsprop"):
        built = models.build_optimizer(spec.replace(optimizer=optimizer, momentum=0.9), 5)
        assert rate_at(built, 0) == pytest.approx(0.004)


def test_the_fast_protocol_builds(keras):
    fast = config.Study({**STUDY.raw, "protocol": "fast"}, STUDY.path)
    spec = fast.spec("baseline", 42)
    model = models.build_model(spec, name="fast", steps_per_epoch=188)
    assert model.count_params() == 225_034
    assert model.layers[0].compute_dtype == "bfloat16"
    assert rate_at(model.optimizer, 0) == 0.0
    assert rate_at(model.optimizer, 188) == pytest.approx(
        spec.learning_rate, rel=1e-5
    )  # one epoch of warm-up
    keras.backend.clear_session()


def test_label_smoothing_zero_is_keras_own_sparse_crossentropy():
    spec = STUDY.spec("baseline")
    assert models.build_loss(spec.replace(label_smoothing=0)) == "sparse_categorical_crossentropy"
    assert models.build_loss(spec.replace(label_smoothing=0.0)) == "sparse_categorical_crossentropy"


def test_label_smoothed_loss_is_the_hand_computed_cross_entropy_of_smoothed_targets(keras):
    import numpy as np

    spec = STUDY.spec("baseline").replace(
        filters=(4,), kernel_sizes=(3,), dense_units=8, label_smoothing=0.2, steps_per_execution=1
    )
    model = models.build_model(spec, name="smoothed")
    # Output biases 0..9 make the answers far from uniform whatever the random weights, and the labels
    # 7-9 are among the likeliest classes, so the smoothed loss stands well above the plain one.
    model.layers[-1].bias.assign(np.arange(10, dtype=np.float32))
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 28, 28, 1), dtype=np.float32), rng.integers(7, 10, 40).astype(np.uint8)
    probabilities = model.predict(x, verbose=0).astype(np.float64)
    # Target 1 - 0.2 + 0.02 on the true class and 0.02 on each other: -sum(target * log p),
    # averaged over images.
    targets = np.full((40, 10), 0.02)
    targets[np.arange(40), y] += 0.8
    expected = -(targets * np.log(probabilities)).sum(axis=1).mean()
    loss, _ = model.evaluate(x, y, batch_size=40, verbose=0)
    assert loss == pytest.approx(expected, rel=1e-5)
    plain_loss = -np.log(probabilities[np.arange(40), y]).mean()
    assert loss - plain_loss > 0.3  # the smoothing is really applied
    keras.backend.clear_session()


def test_a_label_smoothed_model_loads_in_a_fresh_process(keras, tmp_path):
    """A saved model names its loss class; models.load_model registers it before loading (safe_mode on)."""
    import subprocess
    import sys

    spec = STUDY.spec("baseline").replace(filters=(4,), kernel_sizes=(3,), dense_units=8, label_smoothing=0.1)
    models.build_model(spec, name="smoothed").save(tmp_path / "smoothed.keras")
    keras.backend.clear_session()
    script = (
        "from study.training import models; model = models.load_model(%r); "
        "print(type(model.loss).__name__, model.loss.label_smoothing)" % str(tmp_path / "smoothed.keras")
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["SmoothedSparseCategoricalCrossentropy", "0.1"]


@pytest.mark.parametrize("shape", [(16, 5, 5, 3), (16, 6)])  # after a conv, and after Dense
def test_fused_batch_norm_trains_like_keras_layer(keras, shape):
    """batch_norm_kernel: fused computes Keras's batch norm to rounding: outputs, gradients,
    moving averages."""
    import numpy as np
    import tensorflow as tf

    inputs = tf.random.stateless_normal(shape, [1, 2]) * 3.0 + 1.5
    upstream = tf.random.stateless_normal(shape, [3, 4])
    results = []
    for layer in (keras.layers.BatchNormalization(), models.fused_batch_norm_class()()):
        layer.build(shape)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = layer(inputs, training=True)
        gradients = tape.gradient(outputs, [inputs, layer.gamma, layer.beta], output_gradients=upstream)
        results.append(
            (
                outputs.numpy(),
                [g.numpy() for g in gradients],
                layer.moving_mean.numpy(),
                layer.moving_variance.numpy(),
                layer(inputs, training=False).numpy(),
            )
        )
    (keras_out, keras_grads, keras_mean, keras_var, keras_infer), (out, grads, mean, var, infer) = results
    # In training the layer runs TensorFlow's fused kernel, not Keras's ops under another name.
    training_call = tf.function(lambda x: layer(x, training=True)).get_concrete_function(tf.TensorSpec(shape))
    assert "FusedBatchNormV3" in {operation.type for operation in training_call.graph.get_operations()}
    # By hand: each channel centred on its batch mean over the biased sd with epsilon 1e-3 (gamma 1, beta 0);
    # moving averages start at 0 and 1 and take 1% of the batch's mean and biased variance.
    x = inputs.numpy().reshape(-1, shape[-1])
    expected = ((x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-3)).reshape(shape)
    assert np.allclose(keras_out, expected, atol=1e-5) and np.allclose(out, expected, atol=1e-5)
    assert np.allclose(mean, 0.01 * x.mean(axis=0), atol=1e-6) and np.allclose(mean, keras_mean, atol=1e-6)
    assert np.allclose(var, 0.99 + 0.01 * x.var(axis=0), atol=1e-6) and np.allclose(var, keras_var, atol=1e-6)
    for keras_gradient, gradient in zip(keras_grads, grads):
        assert np.allclose(keras_gradient, gradient, atol=1e-4)
    assert np.allclose(grads[2], upstream.numpy().reshape(-1, shape[-1]).sum(axis=0), atol=1e-4)
    # Not training, it is Keras's own code on its moving averages, which agree to rounding.
    assert np.allclose(infer, keras_infer, atol=1e-5)
    keras.backend.clear_session()


def test_a_fused_batch_norm_model_loads_in_a_fresh_process(keras, tmp_path):
    """A saved model names the study's batch-norm class; models.load_model registers it (safe_mode on)."""
    import subprocess
    import sys

    spec = STUDY.spec("batchnorm").replace(
        filters=(4,), kernel_sizes=(3,), dense_units=8, batch_norm_kernel="fused"
    )
    model = models.build_model(spec, name="fused")
    assert model.count_params() == hand_count(spec)
    model.save(tmp_path / "fused.keras")
    keras.backend.clear_session()
    script = (
        "from study.training import models; model = models.load_model(%r); "
        "print(*sorted({type(layer).__name__ for layer in model.layers if 'Norm' in type(layer).__name__}))"
        % str(tmp_path / "fused.keras")
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1:] == ["FusedBatchNormalization"]
