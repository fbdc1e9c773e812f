"""Screens: each coordinates its panes and turns their intents into actions."""
