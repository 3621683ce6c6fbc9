{{ aggregate_bars(ref('daily_bars'), 'week') }}
