"""study.data.augmentation and stages.augment: the transforms against exact references, the augmented set, and
the stage's inputs."""

import builtins
import os
import shutil

import numpy as np
import pytest

import stages.augment
from study import config
from study.config import AugmentationPreset
from study.data import augmentation
from study.files import load_split, save_split

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESET = AugmentationPreset(
    copies=2,
    max_rotation_degrees=20,
    max_shift_pixels=2,
    vertical_flip_probability=0.5,
    horizontal_flip_probability=0.5,
    noise_variance=0.01,
    seed=42,
)


def tiny_split(count=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((count, 28, 28, 1), dtype=np.float32)
    y = (np.arange(count) % 10).astype(np.uint8)
    return x, y


def pattern():
    """An asymmetric test image: every rotation and flip of it is different."""
    image = np.zeros((28, 28), dtype=np.float32)
    image[4:10, 6:20] = 1.0
    image[10:24, 6:10] = 0.5
    image[20, 18] = 0.25
    return image


def test_augment_shape_dtype_range_and_labels():
    x, y = tiny_split()
    before = x.copy()
    augmented_x, augmented_y = augmentation.augment(x, y, PRESET)
    assert augmented_x.shape == (36, 28, 28, 1) and augmented_x.dtype == np.float32
    assert augmented_x.min() >= 0.0 and augmented_x.max() <= 1.0
    np.testing.assert_array_equal(augmented_y, np.concatenate([y, y, y]))
    np.testing.assert_array_equal(augmented_x[:12], x)  # the originals first, untouched
    np.testing.assert_array_equal(x, before)  # the input is not modified in place
    assert not np.allclose(augmented_x[12:24], x, atol=0.05) and not np.allclose(
        augmented_x[24:], augmented_x[12:24], atol=0.05
    )


def test_augment_is_seeded():
    x, y = tiny_split()
    first, again = augmentation.augment(x, y, PRESET)[0], augmentation.augment(x, y, PRESET)[0]
    np.testing.assert_array_equal(first, again)
    other = augmentation.augment(x, y, PRESET.replace(seed=43))[0]
    np.testing.assert_array_equal(other[:12], first[:12])
    assert np.abs(other[12:] - first[12:]).mean() > 0.01


def test_chunks_keep_the_image_order(monkeypatch):
    # No randomness left in the transforms: every copy is the upside-down original, chunked or not.
    x, y = tiny_split()
    preset = PRESET.replace(
        max_rotation_degrees=0,
        max_shift_pixels=0,
        vertical_flip_probability=1.0,
        horizontal_flip_probability=0.0,
        noise_variance=0.0,
    )
    monkeypatch.setattr(augmentation, "CHUNK_SIZE", 5)
    augmented_x, augmented_y = augmentation.augment(x, y, preset)
    np.testing.assert_allclose(augmented_x[12:24], x[:, ::-1], atol=1e-6)
    np.testing.assert_allclose(augmented_x[24:], x[:, ::-1], atol=1e-6)
    np.testing.assert_array_equal(augmented_y[12:24], y)


def test_noise_has_the_requested_variance():
    gray = np.full((200, 28, 28), 0.5, dtype=np.float32)
    noisy = augmentation.add_noise(gray, 0.01, np.random.default_rng(0))
    assert noisy.dtype == np.float32
    assert abs((noisy - 0.5).var() - 0.01) < 0.05 * 0.01
    assert abs(noisy.mean() - 0.5) < 0.001
    assert augmentation.add_noise(gray, 0, np.random.default_rng(0)) is gray


def test_noise_is_clipped_to_pixel_range():
    black = np.zeros((10, 28, 28), dtype=np.float32)
    noisy = augmentation.add_noise(black, 0.25, np.random.default_rng(0))
    assert noisy.min() == 0.0 and noisy.max() <= 1.0
    assert 0.45 < np.mean(noisy == 0.0) < 0.55  # half the draws are negative


def test_flip_with_probability_one_and_zero():
    images = np.stack([pattern(), pattern().T])
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(augmentation.flip(images, 1.0, 1, rng), images[:, ::-1, :])
    np.testing.assert_array_equal(augmentation.flip(images, 1.0, 2, rng), images[:, :, ::-1])
    np.testing.assert_array_equal(augmentation.flip(images, 0.0, 1, rng), images)


def test_flip_probability_half_flips_about_half():
    images = np.repeat(pattern()[None], 400, axis=0)
    flipped = augmentation.flip(images, 0.5, 2, np.random.default_rng(0))
    changed = ~np.all(flipped == images, axis=(1, 2))
    np.testing.assert_array_equal(flipped[changed], images[changed][:, :, ::-1])
    assert 160 < changed.sum() < 240


def test_rotate_by_zero_and_shift_by_zero_is_identity():
    images = tiny_split(3)[0][..., 0]
    same = augmentation.rotate_and_shift(images, np.zeros(3), np.zeros((3, 2), dtype=np.float32))
    assert same.dtype == np.float32
    np.testing.assert_allclose(same, images, atol=1e-6)


def test_rotate_by_90_degrees_is_counterclockwise():
    # Output p takes the input at R(-90)(p - c) + c: out[r, k] = in[k, 27 - r], which is np.rot90 (k=1).
    image = pattern()
    rotated = augmentation.rotate_and_shift(
        image[None], np.array([90.0]), np.zeros((1, 2), dtype=np.float32)
    )[0]
    np.testing.assert_allclose(rotated, np.rot90(image, 1), atol=1e-5)
    assert np.abs(rotated - np.rot90(image, -1)).max() > 0.5
    half_turn = augmentation.rotate_and_shift(
        image[None], np.array([180.0]), np.zeros((1, 2), dtype=np.float32)
    )[0]
    np.testing.assert_allclose(half_turn, image[::-1, ::-1], atol=1e-5)


def test_rotate_by_45_degrees_bilinear_keeps_the_centre_pixel_area():
    image = np.zeros((28, 28), dtype=np.float32)
    image[12:16, 12:16] = 1.0  # a square about the centre (13.5, 13.5)
    rotated = augmentation.rotate_and_shift(
        image[None], np.array([45.0]), np.zeros((1, 2), dtype=np.float32)
    )[0]
    assert rotated[13, 13] == pytest.approx(1.0) and rotated[0, 0] == 0.0
    assert rotated.sum() == pytest.approx(16.0, rel=0.1)


def test_rotation_reads_zero_outside_the_image_on_every_side():
    # A white square turned by 45 degrees: a diamond, symmetric under quarter turns,
    # black in all four corners.
    ones = np.ones((1, 28, 28), dtype=np.float32)
    rotated = augmentation.rotate_and_shift(ones, np.array([45.0]), np.zeros((1, 2), dtype=np.float32))[0]
    corners = [rotated[:4, :4], rotated[:4, -4:], rotated[-4:, :4], rotated[-4:, -4:]]
    assert [float(np.abs(corner).max()) for corner in corners] == [0.0] * 4
    np.testing.assert_allclose(rotated, np.rot90(rotated), atol=1e-5)


def test_shift_moves_content_down_and_right():
    image = pattern()
    down = augmentation.rotate_and_shift(image[None], np.zeros(1), np.array([[1.0, 0.0]], dtype=np.float32))[
        0
    ]
    np.testing.assert_allclose(down[1:], image[:-1], atol=1e-6)
    np.testing.assert_array_equal(down[0], np.zeros(28))
    right = augmentation.rotate_and_shift(image[None], np.zeros(1), np.array([[0.0, 2.0]], dtype=np.float32))[
        0
    ]
    np.testing.assert_allclose(right[:, 2:], image[:, :-2], atol=1e-6)
    np.testing.assert_array_equal(right[:, :2], np.zeros((28, 2)))


def test_main_reads_only_the_train_split(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    shutil.copy(os.path.join(ROOT, "params.yaml"), tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    x, y = tiny_split(10)
    save_split("data/prepared/train.npz", x, y)
    save_split("data/prepared/val.npz", *tiny_split(4, seed=1))
    save_split("data/prepared/test.npz", *tiny_split(4, seed=2))
    untouched = {
        name: ((tmp_path / name).read_bytes(), os.stat(tmp_path / name).st_mtime_ns)
        for name in ("data/prepared/val.npz", "data/prepared/test.npz")
    }
    opened = []
    real_open = builtins.open

    def recording_open(file, *args, **kwargs):
        opened.append(os.path.abspath(os.fspath(file)) if isinstance(file, (str, os.PathLike)) else file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", recording_open)
    stages.augment.main(["baseline_aug"])  # the augmented variant, whose preset is rotate_vflip_noise
    monkeypatch.setattr(builtins, "open", real_open)

    assert str(tmp_path / "data" / "prepared" / "train.npz") in opened
    for name, (data, mtime) in untouched.items():
        assert str(tmp_path / name) not in opened
        assert (tmp_path / name).read_bytes() == data and os.stat(tmp_path / name).st_mtime_ns == mtime
    augmented_x, augmented_y = load_split("data/augmented/baseline_aug.npz")
    assert augmented_x.shape == (20, 28, 28, 1)
    np.testing.assert_array_equal(augmented_x[:10], x)
    np.testing.assert_array_equal(augmented_y, np.tile(y, 2))
    assert (tmp_path / "plots" / "figures" / "augmentation_baseline_aug.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(os.listdir(tmp_path / "data" / "augmented")) == ["baseline_aug.npz"]


def test_main_uses_the_preset_of_the_variant(tmp_path, monkeypatch, capsys):
    # Two augmented variants may share a preset; each gets its own file, made with the preset's settings.
    pytest.importorskip("matplotlib")
    import yaml

    with open(os.path.join(ROOT, "params.yaml")) as stream:
        values = yaml.safe_load(stream)
    values["augmented_variants"]["twin"] = {"augmentation": "rotate_vflip_noise", "learning_rate": 0.002}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(values))
    monkeypatch.chdir(tmp_path)
    x, y = tiny_split(10)
    save_split("data/prepared/train.npz", x, y)
    stages.augment.main(["twin"])
    stages.augment.main(["baseline_aug"])
    twin, _ = load_split("data/augmented/twin.npz")
    seed_preset, _ = load_split("data/augmented/baseline_aug.npz")
    np.testing.assert_array_equal(twin, seed_preset)
    preset = config.Study(values).augmentation("rotate_vflip_noise")
    np.testing.assert_array_equal(twin, augmentation.augment(x, y, preset)[0])
    assert "augment@twin: 10 training images -> 20 in data/augmented/twin.npz" in capsys.readouterr().out
