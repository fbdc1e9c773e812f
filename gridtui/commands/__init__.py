"""Headless subcommands: each module adds its parser and calls the same services as the console."""
