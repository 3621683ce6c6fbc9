"""dlt extractors that load provider JSON into the warehouse's `raw` dataset.

One sub-package per provider (`coingecko`, `alpha_vantage`, `fear_greed`), each with
`helpers.py` (pure parsing, testable without dlt), `settings.py` (URLs and limits) and
`__init__.py` (the dlt source). `emulator` serves the same HTTP APIs on loopback.
"""
