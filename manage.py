#!/usr/bin/env python
"""Django's command-line utility for s3portal (configuration errors print one line)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "s3portal.settings")
    from s3portal.cli import run

    sys.exit(run(sys.argv))


if __name__ == "__main__":
    main()
