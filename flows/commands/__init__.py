"""The commands behind `market-elt`: the CLI and what it runs besides the flows (status, export, chart, docs)."""
