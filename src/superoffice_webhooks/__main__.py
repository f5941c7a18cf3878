"""``python -m superoffice_webhooks``."""

import sys

from ._cli import main

sys.exit(main())
