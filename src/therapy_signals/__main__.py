"""``python -m therapy_signals`` runs the command line."""

from .cli import main

if __name__ == "__main__":  # worker processes of `batch --workers N` import this module again
    main()
