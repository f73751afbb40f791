"""Entry point of `python -m benchmarks`."""

import sys

from benchmarks.harness import main

sys.exit(main())
