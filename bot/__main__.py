"""``python -m bot``: the same command line as ``chatcrm``."""

from bot.cli import main

raise SystemExit(main())
