"""`python -m osconsole` is the `osconsole` command."""

import sys

from osconsole.cli import main

sys.exit(main())
