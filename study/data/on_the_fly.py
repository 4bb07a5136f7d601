"""Augmentation on the fly: a fresh random transform of every batch in every epoch (params.yaml
`augment_on_the_fly`), inside TensorFlow's input pipeline.

Every draw is stateless, seeded by (training seed, batch number), so runs stay
bit-identical and a resumed run sees the same images. The augmented sets made once
before training (stage augment) are study/data/augmentation.py.
"""


def random_transform(images, settings, seed):
    """Each image shifted by up to max_shift_pixels in each direction (zeros enter), mirrored
    left-right with horizontal_flip_probability and, with `erasing`, one rectangle
    replaced by noise; all drawn from the stateless `seed` (two integers).

    The same seed always gives the same transform, so a resumed run sees the same images.
    """
    import tensorflow as tf

    count = tf.shape(images)[0]
    size = images.shape[1]
    flip_seed, shift_seed, erase_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    flip = tf.random.stateless_uniform([count], flip_seed) < settings.horizontal_flip_probability
    images = tf.where(flip[:, None, None, None], tf.reverse(images, axis=[2]), images)
    shift = settings.max_shift_pixels
    if shift:
        padded = tf.pad(images, [[0, 0], [shift, shift], [shift, shift], [0, 0]])
        offsets = tf.random.stateless_uniform(
            [count, 2], shift_seed, minval=0, maxval=2 * shift + 1, dtype=tf.int32
        )
        rows = offsets[:, :1] + tf.range(size)[None, :]
        cols = offsets[:, 1:] + tf.range(size)[None, :]
        images = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    if settings.erasing:
        images = random_erasing(images, settings.erasing, erase_seed)
    return images


def random_erasing(images, settings, seed):
    """Random erasing (Zhong et al., 2017): with `probability`, a rectangle of each image
    whose area is a uniform fraction in `area` of the image's and whose height/width
    ratio is log-uniform in `aspect_ratio` is filled with uniform noise in [0, 1).

    The paper redraws a rectangle that does not fit; here its sides are clipped to the
    image, so that every image costs the same fixed work inside one traced step.
    """
    import math

    import tensorflow as tf

    count = tf.shape(images)[0]
    size = images.shape[1]
    apply_seed, area_seed, ratio_seed, place_seed, noise_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 5)
    )
    applied = tf.random.stateless_uniform([count], apply_seed) < settings.probability
    low_area, high_area = settings.area
    area = tf.random.stateless_uniform([count], area_seed, low_area, high_area) * float(size * size)
    low_ratio, high_ratio = settings.aspect_ratio
    ratio = tf.exp(
        tf.random.stateless_uniform([count], ratio_seed, math.log(low_ratio), math.log(high_ratio))
    )
    height = tf.clip_by_value(tf.round(tf.sqrt(area * ratio)), 1.0, float(size))
    width = tf.clip_by_value(tf.round(tf.sqrt(area / ratio)), 1.0, float(size))
    place = tf.random.stateless_uniform([count, 2], place_seed)
    top = tf.floor(place[:, 0] * (float(size) - height + 1.0))
    left = tf.floor(place[:, 1] * (float(size) - width + 1.0))
    pixels = tf.range(size, dtype=tf.float32)[None, :]
    in_rows = (pixels >= top[:, None]) & (pixels < (top + height)[:, None])
    in_cols = (pixels >= left[:, None]) & (pixels < (left + width)[:, None])
    inside = in_rows[:, :, None] & in_cols[:, None, :] & applied[:, None, None]
    noise = tf.random.stateless_uniform(tf.shape(images), noise_seed, dtype=images.dtype)
    return tf.where(inside[..., None], noise, images)
