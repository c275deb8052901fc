"""``python -m keel.cli`` runs the ``keel`` command."""

from keel.cli import main

main()
