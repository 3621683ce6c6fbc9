-- Alpaca's daily bars this build turns into daily bars (bars_scoped_inputs).
{{ bars_scoped_inputs(ref('stg_alpaca__daily_bars'), 'alpaca_symbol', 'equity', 'bar_date') }}
