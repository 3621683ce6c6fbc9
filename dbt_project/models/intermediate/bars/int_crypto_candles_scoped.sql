-- CoinGecko's daily candles (paid plans) this build turns into daily bars (bars_scoped_inputs).
{{ bars_scoped_inputs(ref('stg_coingecko__ohlc'), 'coingecko_id', 'crypto', 'candle_date') }}
