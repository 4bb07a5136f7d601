"""study.data.sources: reading, verifying, the order of sources, and the download over local HTTP."""

import functools
import gzip
import hashlib
import http.server
import os
import threading

import pytest

from study.data import sources
from study.data.facts import IDX_FILES
from study.errors import DataError
from tests.tiny_data import encode_idx, make_arrays, write_dataset

UNREACHABLE = "http://127.0.0.1:9/"  # the discard port: any download attempt fails


def expected_bytes(seed=0):
    return {name: encode_idx(array) for name, array in make_arrays(seed=seed).items()}


@pytest.mark.parametrize("compress", [True, False])
def test_read_from_directory(tmp_path, compress):
    checksums = write_dataset(tmp_path, compress=compress)
    assert sorted(os.listdir(tmp_path)) == sorted(n + (".gz" if compress else "") for n in IDX_FILES)
    files = sources.read_from_directory(str(tmp_path), checksums)
    expected = expected_bytes()
    assert list(files) == list(IDX_FILES)
    for name in IDX_FILES:
        assert files[name] == expected[name]
        assert hashlib.sha256(files[name]).hexdigest() == checksums[name]


def test_checksum_mismatch_names_the_file_and_both_hashes(tmp_path):
    checksums = write_dataset(tmp_path)
    actual = checksums["t10k-images-idx3-ubyte"]
    checksums["t10k-images-idx3-ubyte"] = "0" * 64
    with pytest.raises(DataError) as caught:
        sources.read_from_directory(str(tmp_path), checksums)
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "t10k-images-idx3-ubyte.gz") + ": ")
    assert actual in message and "0" * 64 in message


def test_missing_file(tmp_path):
    checksums = write_dataset(tmp_path)
    os.remove(tmp_path / "train-labels-idx1-ubyte.gz")
    with pytest.raises(DataError, match="missing") as caught:
        sources.read_from_directory(str(tmp_path), checksums)
    assert str(tmp_path / "train-labels-idx1-ubyte.gz") in str(caught.value)


def test_truncated_gzip(tmp_path):
    checksums = write_dataset(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(DataError, match="not a complete gzip file") as caught:
        sources.read_from_directory(str(tmp_path), checksums)
    assert str(caught.value).startswith(str(path) + ": ")


@pytest.fixture
def three_sources(tmp_path):
    """Three directories holding three different data sets; {source: (dir, its checksums)}."""
    return {
        source: (str(tmp_path / source), write_dataset(tmp_path / source, make_arrays(seed=seed)))
        for seed, source in enumerate(("named", "environment", "debian"))
    }


def test_source_dir_beats_environment_and_debian(three_sources):
    directory, checksums = three_sources["named"]
    origin, files = sources.obtain(
        directory,
        UNREACHABLE,
        checksums,
        environ={"FASHION_MNIST_DIR": three_sources["environment"][0]},
        debian_dir=three_sources["debian"][0],
    )
    assert origin == directory
    assert files == expected_bytes(seed=0)


def test_environment_beats_debian(three_sources):
    directory, checksums = three_sources["environment"]
    origin, files = sources.obtain(
        None,
        UNREACHABLE,
        checksums,
        environ={"FASHION_MNIST_DIR": directory},
        debian_dir=three_sources["debian"][0],
    )
    assert origin == directory
    assert files == expected_bytes(seed=1)


def test_debian_beats_download(three_sources):
    directory, checksums = three_sources["debian"]
    origin, files = sources.obtain(None, UNREACHABLE, checksums, environ={}, debian_dir=directory)
    assert origin == directory
    assert files == expected_bytes(seed=2)


@pytest.mark.parametrize("given_by", ["params.yaml data.source_dir", "FASHION_MNIST_DIR"])
def test_a_named_directory_that_does_not_exist_is_an_error(tmp_path, three_sources, given_by):
    absent = str(tmp_path / "absent")
    source_dir, environ = (
        (absent, {}) if given_by.startswith("params") else (None, {"FASHION_MNIST_DIR": absent})
    )
    with pytest.raises(DataError) as caught:
        sources.obtain(
            source_dir,
            UNREACHABLE,
            three_sources["debian"][1],
            environ=environ,
            debian_dir=three_sources["debian"][0],
        )
    assert str(caught.value) == f"{absent}: not a directory (given by {given_by})"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """serve(directory) -> base URL of an HTTP server on 127.0.0.1 serving it; stopped after the test."""
    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    servers = []

    def start(directory):
        handler = functools.partial(QuietHandler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_download(tmp_path, serve, capsys):
    checksums = write_dataset(tmp_path / "www")
    base_url = serve(tmp_path / "www")
    files = sources.download(base_url, checksums, timeout=10)
    assert files == expected_bytes()
    assert capsys.readouterr().out.splitlines() == [f"downloading {base_url}{name}.gz" for name in IDX_FILES]
    # Without the trailing slash the files are still found under the base URL.
    assert sources.download(base_url.rstrip("/"), checksums, timeout=10) == files


def test_obtain_downloads_when_no_directory_has_the_files(tmp_path, serve):
    checksums = write_dataset(tmp_path / "www")
    base_url = serve(tmp_path / "www")
    origin, files = sources.obtain(None, base_url, checksums, environ={}, debian_dir=str(tmp_path / "absent"))
    assert origin == base_url
    assert files == expected_bytes()


def test_download_of_a_corrupt_file(tmp_path, serve):
    checksums = write_dataset(tmp_path / "www")
    path = tmp_path / "www" / "train-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-1] ^= 1  # one label changed: still a valid gzip and IDX file, but not the official one
    path.write_bytes(gzip.compress(bytes(raw)))
    base_url = serve(tmp_path / "www")
    with pytest.raises(DataError) as caught:
        sources.download(base_url, checksums, timeout=10)
    message = str(caught.value)
    assert message.startswith(f"{base_url}train-labels-idx1-ubyte.gz: sha256")
    assert (
        hashlib.sha256(bytes(raw)).hexdigest() in message and checksums["train-labels-idx1-ubyte"] in message
    )


def test_download_of_a_missing_file(tmp_path, serve):
    checksums = write_dataset(tmp_path / "www")
    os.remove(tmp_path / "www" / "t10k-images-idx3-ubyte.gz")
    base_url = serve(tmp_path / "www")
    with pytest.raises(DataError, match="download failed") as caught:
        sources.download(base_url, checksums, timeout=10)
    assert str(caught.value).startswith(f"{base_url}t10k-images-idx3-ubyte.gz: ")
    assert "FASHION_MNIST_DIR" in str(caught.value)
