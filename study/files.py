"""Reading and writing the project's files; every write is atomic.

Every output is written to a temporary file beside its target and renamed into
place (rename is atomic on POSIX), so a crash never leaves a half-written file:
a reader sees the old file or the new one.
"""

import contextlib
import json
import os
import shutil
import tempfile
import zipfile

import numpy as np

from study.dataset import IMAGE_SHAPE


class DataError(Exception):
    """Data that is missing or not what it should be; str() names the file and the fault."""


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


def save_split(path, x, y):
    """Images `x` (N, 28, 28, 1) and labels `y` (N,) as an uncompressed .npz that np.load reads.

    Written with a fixed timestamp in the zip headers (np.savez stamps the current
    time), so the same arrays always give the same bytes and the same DVC hash:
    rerunning a data stage then retrains nothing.
    """
    with atomic_path(path, suffix=".npz") as temporary:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, array in (("x", x), ("y", y)):
                member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                with archive.open(member, "w", force_zip64=True) as stream:
                    np.lib.format.write_array(stream, np.ascontiguousarray(array), allow_pickle=False)


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
        raise DataError(f"{path}: x has shape {x.shape} and y {y.shape}, expected (N, {', '.join(map(str, IMAGE_SHAPE))}) and (N,)")
    return x, y
