"""The command line (Typer + Rich): thin commands over the slices' service facades."""
