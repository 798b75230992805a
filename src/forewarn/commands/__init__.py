"""One module per CLI command, each with ``register(subparsers)`` (see forewarn.cli)."""
