{{ aggregate_bars(ref('daily_bars'), 'month') }}
