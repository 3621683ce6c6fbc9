-- CoinGecko's market-chart prints this build turns into daily bars (bars_scoped_inputs).
{{ bars_scoped_inputs(ref('stg_coingecko__market_chart'), 'coingecko_id', 'crypto', 'point_date') }}
