"""``python -m recs_tools.cli``: the ``recs`` command without the console script."""

import sys

from recs_tools.cli import main

sys.exit(main())
