"""``python -m esiframe``: the same as the ``esiframe`` command."""

from .cli import main

raise SystemExit(main())
