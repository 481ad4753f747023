"""``python -m api`` runs the ``shopassist`` CLI."""

from api.cli import main

main()
