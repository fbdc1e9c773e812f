"""Console/CLI-side services: node figures, Ray's view, cluster lifecycle. No Textual here."""
