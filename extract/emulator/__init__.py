"""Offline provider emulator: a real HTTP server on loopback with the providers' URL paths,
parameters, payload shapes and failure modes, serving deterministic synthetic markets.

It is the offline demo (`market-elt run --offline`), the analysts' sandbox
(`market-elt emulator`) and the test double for every extractor test.
"""
