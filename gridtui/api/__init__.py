"""`gridtui serve`: the REST API, a front over the same services facade as the console and CLI."""
