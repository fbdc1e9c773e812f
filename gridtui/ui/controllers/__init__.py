"""Screen controllers: the flow behind a screen's keys, held by the screen (not mixed into it)."""
