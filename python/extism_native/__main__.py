"""``python -m extism_native``: the command line (see :mod:`extism_native.cli`)."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
