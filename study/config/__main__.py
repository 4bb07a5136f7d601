"""Checks the whole params.yaml: `python -m study.config` prints ok or one line naming what to fix."""

from study import config, errors


def main():
    with errors.refused_in_one_line():
        config.load()
    print(f"{config.PARAMS_FILE}: ok")


if __name__ == "__main__":
    main()
