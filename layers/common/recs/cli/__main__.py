"""``python -m recs.cli``: the ``recs`` command without the console script."""

import sys

from recs.cli import main

sys.exit(main())
