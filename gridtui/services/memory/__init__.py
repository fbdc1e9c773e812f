"""The memory store, driver side: the client, chunked transfers, sources and sinks."""
