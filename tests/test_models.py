"""stages.models: parameter counts against a hand formula, and the step decay of the learning rate."""

import os

import pytest

from stages import models, params

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL_PARAMS = params.load(os.path.join(ROOT, "params.yaml"))


def hand_count(spec):
    """Parameters of the network, counted by hand: conv k*k*in*out+out, dense in*out+out, BN 4 per channel."""
    bn = 4 if spec["batch_norm"] else 0
    size, channels, total = 28, 1, 0
    for filters, kernel in zip(spec["filters"], spec["kernel_sizes"]):
        total += kernel * kernel * channels * filters + filters + bn * filters
        size = (size - kernel + 1) // spec["pool_size"]
        channels = filters
    flat = size * size * channels
    total += flat * spec["dense_units"] + spec["dense_units"] + bn * spec["dense_units"]
    total += spec["dense_units"] * 10 + 10
    return total


def test_hand_formula_of_the_baseline_is_annex_1():
    # 320 + 18,496 + 1600*128+128 + 128*10+10, the seed's Annex 1 total.
    assert hand_count(params.model_spec(ALL_PARAMS, "baseline")) == 225_034


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


@pytest.mark.parametrize("name", params.variant_names(ALL_PARAMS))
def test_parameter_count_of_every_variant(keras, name):
    spec = params.model_spec(ALL_PARAMS, name)
    model = models.build_model(spec, name=name)
    assert model.count_params() == hand_count(spec)
    if name == "baseline":
        assert model.count_params() == 225_034
    assert model.output_shape == (None, 10)
    keras.backend.clear_session()


def test_expected_counts_differ_between_variants():
    counts = {name: hand_count(params.model_spec(ALL_PARAMS, name)) for name in params.variant_names(ALL_PARAMS)}
    # kernel7: 7*7*32+32 + 9*32*64+64 + 1024*128+128 + 1290; batchnorm: + 4 * (32 + 64 + 128).
    assert counts["kernel7"] == 1600 + 18_496 + 131_200 + 1290
    assert counts["batchnorm"] == 225_034 + 4 * (32 + 64 + 128)
    assert counts["sgd"] == counts["sigmoid"] == counts["baseline_lr"] == 225_034


def test_optimizer_of_the_spec(keras):
    sgd = models.build_optimizer(params.model_spec(ALL_PARAMS, "sgd"))
    assert type(sgd).__name__ == "SGD"
    assert float(sgd.learning_rate) == pytest.approx(0.01) and float(sgd.momentum) == pytest.approx(0.9)
    assert type(models.build_optimizer(params.model_spec(ALL_PARAMS, "baseline"))).__name__ == "Adam"


def test_step_decay_of_the_learning_rate():
    spec = params.model_spec(ALL_PARAMS, "baseline_lr")
    rates = [models.learning_rate_for_epoch(spec, epoch) for epoch in range(spec["epochs"])]
    assert rates == [0.001] * 5 + [0.0005] * 5 + [0.00025] * 5


def test_constant_learning_rate_without_schedule():
    spec = params.model_spec(ALL_PARAMS, "sgd")
    assert [models.learning_rate_for_epoch(spec, epoch) for epoch in (0, 7, 14)] == [0.01, 0.01, 0.01]
