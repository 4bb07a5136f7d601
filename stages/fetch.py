"""Stage fetch: obtain the four official Fashion-MNIST IDX files, verified, into data/raw/.

    python -m stages.fetch

Reads params.yaml `data`. Writes the decompressed IDX files, whose sha256 match
data.sha256, all four or none.
"""

import os

import stages
from study import config, errors, files
from study.data.paths import RAW_DIR
from study.data.sources import obtain


def main():
    with errors.refused_in_one_line():
        data = config.load().data
        origin, raw_files = obtain(data.source_dir, data.download_url, data.sha256)
    with files.atomic_directory(RAW_DIR) as directory:
        for name, raw in raw_files.items():
            with open(os.path.join(directory, name), "wb") as stream:
                stream.write(raw)
    print(f"fetch: {len(raw_files)} files from {origin} verified into {RAW_DIR}/")


if __name__ == "__main__":
    stages.run(main)
