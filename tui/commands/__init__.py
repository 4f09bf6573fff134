"""Subcommands of the ``callgate`` command line, one module each."""
