"""The Textual console: the only package in gridtui that imports Textual."""
