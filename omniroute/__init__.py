"""The `omniroute` command line and the single-process embedded mode."""
