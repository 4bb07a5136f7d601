"""The formats of the files the stages exchange, and atomic writes.

Every output is written to a temporary file beside its target and renamed into
place (rename is atomic on POSIX), so a crash never leaves a half-written file:
a reader sees the old file or the new one. Array files (.npz) are zip archives
written with a fixed date in their headers, so the same arrays always give the
same bytes and the same DVC hash: rerunning a stage then reruns nothing after it.
Where each file lives is said by study/data/paths.py, study/training/runs.py and
study/analysis/artifacts.py.
"""

import contextlib
import csv
import io
import json
import os
import shutil
import tempfile
import zipfile

import numpy as np

from study.data.facts import IMAGE_SHAPE, NUM_CLASSES
from study.errors import DataError

# Every zip entry the project writes carries this date, so equal arrays give equal bytes.
FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yields a temporary path beside `path`; on success it replaces `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    os.close(handle)
    # mkstemp creates 0600 files; outputs get the usual permissions instead.
    os.chmod(temporary, 0o666 & ~_umask())
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


@contextlib.contextmanager
def atomic_directory(path):
    """Yields a temporary directory beside `path`; on success it replaces `path`."""
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    temporary = tempfile.mkdtemp(dir=parent, prefix=".tmp-")
    os.chmod(temporary, 0o777 & ~_umask())
    try:
        yield temporary
        if os.path.isdir(path):
            shutil.rmtree(path)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            shutil.rmtree(temporary)


def write_bytes(path, data):
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())


def write_text(path, text):
    write_bytes(path, text.encode())


def write_json(path, value):
    write_text(path, json.dumps(value, indent=2, sort_keys=False) + "\n")


def write_csv(path, header, rows):
    """Writes rows of numbers or strings; floats keep full precision (repr)."""
    lines = [",".join(header)]
    lines += [",".join(str(value) for value in row) for row in rows]
    write_text(path, "\n".join(lines) + "\n")


def write_arrays(archive, arrays, compress_type=zipfile.ZIP_STORED, force_zip64=False):
    """Writes each named array of `arrays` into the open zip `archive` as <name>.npy, with the fixed date.

    `force_zip64` gives each entry zip64 sizes, needed where an entry may pass 4 GiB.
    """
    for name, array in arrays.items():
        member = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_ZIP_DATE)
        member.compress_type = compress_type
        with archive.open(member, "w", force_zip64=force_zip64) as stream:
            np.lib.format.write_array(stream, np.ascontiguousarray(array), allow_pickle=False)


def save_split(path, x, y):
    """Images `x` (N, 28, 28, 1) and labels `y` (N,) as an uncompressed .npz that np.load reads."""
    with atomic_path(path, suffix=".npz") as temporary:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            write_arrays(archive, {"x": x, "y": y}, force_zip64=True)


def load_split(path):
    """(x, y) of a split saved by save_split, checked to be images and labels of one size."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: missing (run `dvc repro` to make it)")
    try:
        with np.load(path) as arrays:
            x, y = arrays["x"], arrays["y"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: not a split with arrays x and y ({error})") from None
    if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE or len(x) != len(y):
        raise DataError(
            f"{path}: x has shape {x.shape} and y {y.shape}, "
            f"expected (N, {', '.join(map(str, IMAGE_SHAPE))}) and (N,)"
        )
    return x, y


def read_json(path, what="metrics"):
    if not os.path.isfile(path):
        raise DataError(f"{path}: missing (run `dvc repro` to make these {what})")
    try:
        with open(path) as stream:
            return json.load(stream)
    except ValueError as error:
        raise DataError(f"{path}: not valid JSON ({error})") from None


def read_history(path):
    """Rows of a history CSV written by the training stages, as dicts of floats."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: missing (run `dvc repro` to train the model)")
    with open(path) as stream:
        rows = list(csv.reader(stream))
    try:
        return [dict(zip(rows[0], map(float, row))) for row in rows[1:] if row]
    except (ValueError, IndexError) as error:
        raise DataError(f"{path}: not a history of numbers ({error})") from None


def write_history(path, history, columns):
    write_csv(path, columns, [[row[column] for column in columns] for row in history])


def write_predictions(path, probabilities):
    """A model's answers on the test set: each image's class probabilities, as float16 in a compressed .npz.

    float16 keeps three significant digits, enough to average an ensemble; the
    predicted class is the argmax of the float32 probabilities, stored beside them
    so that it never depends on the rounding.
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        write_arrays(
            archive,
            {
                "predicted": probabilities.argmax(axis=1).astype(np.uint8),
                "probabilities": probabilities.astype(np.float16),
            },
            zipfile.ZIP_DEFLATED,
        )
    write_bytes(path, buffer.getvalue())


def read_predictions(path, test_size=None):
    """(predicted classes, probabilities as float32) of a predictions file."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: missing (run `dvc repro` to train the model that writes it)")
    try:
        with np.load(path) as arrays:
            predicted, probabilities = arrays["predicted"], arrays["probabilities"].astype(np.float32)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: not a predictions file ({error})") from None
    if predicted.ndim != 1 or probabilities.shape != (len(predicted), NUM_CLASSES):
        raise DataError(
            f"{path}: predicted {predicted.shape} and probabilities {probabilities.shape}, "
            f"expected (N,) and (N, {NUM_CLASSES})"
        )
    if test_size is not None and len(predicted) != test_size:
        raise DataError(f"{path}: {len(predicted)} answers, the test set has {test_size} images")
    return predicted, probabilities
