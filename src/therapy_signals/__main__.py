"""``python -m therapy_signals`` runs the command line."""

from .cli import main

main()
