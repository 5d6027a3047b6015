"""Resumable Monte-Carlo runner: sweeps, chunked atomic result store, progress."""
