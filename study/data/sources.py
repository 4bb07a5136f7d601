"""Where Fashion-MNIST comes from, and the check that it is the real thing.

The four official IDX files are looked for in order: the directory named by
params.yaml (data.source_dir) or the FASHION_MNIST_DIR environment variable,
Debian's dataset-fashion-mnist package, then a download. Whatever the source,
the sha256 of the decompressed bytes must match params.yaml (data.sha256):
Debian rewrote the gzip headers, so only the raw bytes can be compared.
"""

import gzip
import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request
import zlib

from study.data.facts import IDX_FILES
from study.errors import DataError

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
DOWNLOAD_TIMEOUT_SECONDS = 120


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def decompress(data, name):
    """The raw bytes of `data`, gunzipped when it is a gzip stream."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as error:
        raise DataError(f"{name}: not a complete gzip file ({error})") from None


def verify(raw, name, expected_sha256, origin):
    actual = sha256(raw)
    if actual != expected_sha256:
        raise DataError(
            f"{origin}: sha256 of the decompressed bytes is {actual}, expected {expected_sha256} "
            f"({len(raw)} bytes): a truncated, corrupt or different file"
        )
    return raw


def read_from_directory(directory, checksums):
    """The verified raw bytes of the four files in `directory` (each .gz or raw)."""
    files = {}
    for name in IDX_FILES:
        candidates = [os.path.join(directory, name + ".gz"), os.path.join(directory, name)]
        path = next((p for p in candidates if os.path.isfile(p)), None)
        if path is None:
            raise DataError(f"{candidates[0]}: missing (nor is the uncompressed {name} there)")
        with open(path, "rb") as stream:
            raw = decompress(stream.read(), path)
        files[name] = verify(raw, name, checksums[name], path)
    return files


def download(base_url, checksums, timeout=DOWNLOAD_TIMEOUT_SECONDS):
    """The verified raw bytes of the four official .gz files under `base_url`."""
    files = {}
    for name in IDX_FILES:
        address = urllib.parse.urljoin(base_url if base_url.endswith("/") else base_url + "/", name + ".gz")
        print(f"downloading {address}", flush=True)
        try:
            with urllib.request.urlopen(address, timeout=timeout) as response:
                data = response.read()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DataError(
                f"{address}: download failed ({reason}); install the Debian package "
                "dataset-fashion-mnist or set FASHION_MNIST_DIR to a directory holding the files"
            ) from None
        files[name] = verify(decompress(data, address), name, checksums[name], address)
    return files


def obtain(source_dir, base_url, checksums, environ=os.environ, debian_dir=DEBIAN_DIR):
    """Returns (where the files came from, {name: raw bytes}) from the first source that has them.

    A directory the user named must hold the files; the Debian directory is used
    when it exists; otherwise the files are downloaded.
    """
    chosen = source_dir or environ.get("FASHION_MNIST_DIR")
    if chosen:
        origin = "params.yaml data.source_dir" if source_dir else "FASHION_MNIST_DIR"
        if not os.path.isdir(chosen):
            raise DataError(f"{chosen}: not a directory (given by {origin})")
        return chosen, read_from_directory(chosen, checksums)
    if os.path.isdir(debian_dir):
        return debian_dir, read_from_directory(debian_dir, checksums)
    return base_url, download(base_url, checksums)
