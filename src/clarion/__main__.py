"""``python -m clarion`` runs the CLI."""

import sys

from clarion.cli.main import main

sys.exit(main())
