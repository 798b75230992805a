"""``python -m forewarn.eval [PART ...] [options]``: the same as ``forewarn eval``."""

import sys

from forewarn.cli import main

sys.exit(main(["eval", *sys.argv[1:]]))
