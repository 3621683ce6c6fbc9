-- Alpha Vantage's daily sessions this build turns into daily bars (bars_scoped_inputs).
{{ bars_scoped_inputs(ref('stg_alpha_vantage__daily'), 'alpha_vantage_symbol', 'equity', 'bar_date') }}
