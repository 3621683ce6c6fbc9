{#
    One step of the exact recursions (EMA, Wilder smoothing, MACD, ADX, OBV, running max),
    in TA-Lib's order of operations: the state after bar `cur` from the state after the bar
    before it (`prev`). State before an asset's first bar is all zeros. While a recursion is
    still being seeded its state holds the running sum of the seed window (TA-Lib sums the
    seed sequentially too); from its seed row on it holds the smoothed value.

    The recursive term of the CTE `states` over the bars table `bars_relation`, which must provide
    asset_id, rn (0-based row of the bar in the asset's history), close, volume, volume_rn (the row
    in volume's own series, NULL before its first volume), close_change, true_range, plus_dm,
    minus_dm (NULL on row 0). Two levels: the inner select advances the
    recursions fed by the bar itself, the outer one those fed by them (MACD signal from the MACD
    line, ADX from +DI/-DI), so no expression is repeated inside another.
    Select list: asset_id, rn, e12, e26, fast, sig, gain, loss, atr, pdm, mdm, trs, adx, obv, max_close.

    seeding=true: every row (the seed phases by row number, then the smoothing); the step stops
    at row features_seeded_row(). seeding=false: the smoothing alone, for the rows after it
    (every seed is complete there): the same operations on those rows, without the row-number
    branches, which made each of the recursion's thousands of steps costlier.
#}
{% macro features_recursive_step(states, bars_relation, seeding=true) -%}
    {%- set prev = 'prev' -%}
    {%- set cur = 'cur' -%}
    {%- set expression = features_recursive_expressions(seeding) -%}
    select
        step.asset_id,
        step.rn,
        step.e12,
        step.e26,
        step.fast,
        {{ expression['sig'] }} as sig,
        step.gain,
        step.loss,
        step.atr,
        step.pdm,
        step.mdm,
        step.trs,
        {{ expression['adx'] }} as adx,
        step.obv,
        step.max_close

    from (

        select
            {{ cur }}.asset_id,
            {{ cur }}.rn as rn,
            {{ expression['e12'] }} as e12,
            {{ expression['e26'] }} as e26,
            {{ expression['fast'] }} as fast,
            {{ prev }}.sig as previous_sig,
            {{ expression['gain'] }} as gain,
            {{ expression['loss'] }} as loss,
            {{ expression['atr'] }} as atr,
            {{ expression['pdm'] }} as pdm,
            {{ expression['mdm'] }} as mdm,
            {{ expression['trs'] }} as trs,
            {{ prev }}.adx as previous_adx,
            {{ expression['obv'] }} as obv,
            {{ expression['max_close'] }} as max_close

        {#- the states are the join's build side: written last (see features_written_join_order) #}
        from {{ bars_relation }} as {{ cur }}
        inner join {{ states }} as {{ prev }}
            on
                {{ cur }}.asset_id = {{ prev }}.asset_id
                and {{ cur }}.rn = {{ prev }}.rn + 1
                {%- if seeding %}
                and {{ cur }}.rn <= {{ features_seeded_row() }}
                {%- endif %}

    ) as step
{%- endmacro %}

{#-
    The step's expressions, by state column, in terms of `prev` (the state after the bar
    before), `cur` (the bar: rn, close, volume, volume_rn, close_change, true_range, plus_dm,
    minus_dm) and, for sig and adx, `step` (the row of the other states advanced, with rn and
    previous_sig, previous_adx): a recursive CTE's columns here, a Spark lambda's struct fields
    in spark__features_states_recursed.
-#}
{% macro features_recursive_expressions(seeding=true) -%}
    {%- set prev = 'prev' -%}
    {%- set cur = 'cur' -%}
    {%- set d = 'double precision' -%}
    {%- set rn = cur ~ '.rn' -%}
    {%- set close = cur ~ '.close' -%}
    {%- set gain = 'case when ' ~ cur ~ '.close_change > 0 then ' ~ cur ~ '.close_change else cast(0 as ' ~ d ~ ') end' -%}
    {%- set loss = 'case when ' ~ cur ~ '.close_change < 0 then -' ~ cur ~ '.close_change else cast(0 as ' ~ d ~ ') end' -%}

    {#- each recursion as its seed phases (condition, expression), in order, then its smoothing -#}
    {%- set recursions = {} -%}
    {%- for name, n, seed_from in [('e12', 12, none), ('e26', 26, none), ('fast', 12, 14)] -%}
        {#- MACD's fast EMA: seeded with the mean of closes 14..25 so that it starts with the slow one. -#}
        {%- set last = (seed_from or 0) + n - 1 -%}
        {%- set phases = [] -%}
        {%- if seed_from -%}
            {%- do phases.append((rn ~ ' < ' ~ seed_from, 'cast(0 as ' ~ d ~ ')')) -%}
        {%- endif -%}
        {%- do phases.append((rn ~ ' < ' ~ last, prev ~ '.' ~ name ~ ' + ' ~ close)) -%}
        {%- do phases.append((rn ~ ' = ' ~ last, '(' ~ prev ~ '.' ~ name ~ ' + ' ~ close ~ ') / ' ~ n)) -%}
        {%- set smoothing = '(' ~ close ~ ' - ' ~ prev ~ '.' ~ name ~ ') * (cast(2 as ' ~ d ~ ') / ' ~ (n + 1) ~ ') + '
            ~ prev ~ '.' ~ name -%}
        {%- do recursions.update({name: (phases, smoothing)}) -%}
    {%- endfor -%}
    {%- for name, x in [('gain', gain), ('loss', loss), ('atr', cur ~ '.true_range')] -%}
        {%- do recursions.update({name: (
            [
                (rn ~ ' = 0', 'cast(0 as ' ~ d ~ ')'),
                (rn ~ ' < 14', prev ~ '.' ~ name ~ ' + ' ~ x),
                (rn ~ ' = 14', '(' ~ prev ~ '.' ~ name ~ ' + ' ~ x ~ ') / 14'),
            ],
            '(' ~ prev ~ '.' ~ name ~ ' * 13 + ' ~ x ~ ') / 14',
        )}) -%}
    {%- endfor -%}
    {#- ADX: Wilder's smoothed sums (not averages) of +DM, -DM and TR. -#}
    {%- for name, x in [('pdm', cur ~ '.plus_dm'), ('mdm', cur ~ '.minus_dm'), ('trs', cur ~ '.true_range')] -%}
        {%- do recursions.update({name: (
            [(rn ~ ' = 0', 'cast(0 as ' ~ d ~ ')'), (rn ~ ' < 14', prev ~ '.' ~ name ~ ' + ' ~ x)],
            prev ~ '.' ~ name ~ ' - ' ~ prev ~ '.' ~ name ~ ' / 14 + ' ~ x,
        )}) -%}
    {%- endfor -%}
    {#- outer level: `step` holds the advanced states and the previous sig and adx -#}
    {%- set macd = '(step.fast - step.e26)' -%}
    {%- set pdi = '(100 * (step.pdm / step.trs))' -%}
    {%- set mdi = '(100 * (step.mdm / step.trs))' -%}
    {%- set dx_defined = '(step.trs <> 0 and step.pdm + step.mdm <> 0)' -%}
    {%- set dx = '(100 * (abs(' ~ mdi ~ ' - ' ~ pdi ~ ') / (' ~ mdi ~ ' + ' ~ pdi ~ ')))' -%}
    {%- set dx_or_zero = 'case when ' ~ dx_defined ~ ' then ' ~ dx ~ ' else 0 end' -%}
    {%- do recursions.update({'sig': (
        [
            ('step.rn < 25', 'cast(0 as ' ~ d ~ ')'),
            ('step.rn < 33', 'step.previous_sig + ' ~ macd),
            ('step.rn = 33', '(step.previous_sig + ' ~ macd ~ ') / 9'),
        ],
        '(' ~ macd ~ ' - step.previous_sig) * (cast(2 as ' ~ d ~ ') / 10) + step.previous_sig',
    )}) -%}
    {%- do recursions.update({'adx': (
        [
            ('step.rn < 14', 'cast(0 as ' ~ d ~ ')'),
            ('step.rn < 27', 'step.previous_adx + ' ~ dx_or_zero),
            ('step.rn = 27', '(step.previous_adx + ' ~ dx_or_zero ~ ') / 14'),
        ],
        'case when ' ~ dx_defined ~ ' then (step.previous_adx * 13 + ' ~ dx ~ ') / 14 else step.previous_adx end',
    )}) -%}
    {%- set expression = {} -%}
    {%- for name, (phases, smoothing) in recursions.items() -%}
        {%- if seeding -%}
            {%- set branches = [] -%}
            {%- for condition, value in phases -%}
                {%- do branches.append('when ' ~ condition ~ ' then ' ~ value) -%}
            {%- endfor -%}
            {%- do expression.update({name: 'case ' ~ branches | join(' ') ~ ' else ' ~ smoothing ~ ' end'}) -%}
        {%- else -%}
            {%- do expression.update({name: smoothing}) -%}
        {%- endif -%}
    {%- endfor -%}
    {#- OBV runs on volume's own series (volume_rn, from the first bar with a volume); a missing
        volume after that makes it NULL from then on, as NaN does in TA-Lib. -#}
    {%- set obv -%}
        case
            when {{ cur }}.volume_rn is null then null
            when {{ cur }}.volume_rn = 0 then {{ cur }}.volume
            when {{ cur }}.close_change > 0 then {{ prev }}.obv + {{ cur }}.volume
            when {{ cur }}.close_change < 0 then {{ prev }}.obv - {{ cur }}.volume
            else {{ prev }}.obv
        end
    {%- endset -%}
    {%- do expression.update({'obv': obv, 'max_close': 'greatest(' ~ prev ~ '.max_close, ' ~ close ~ ')'}) -%}
    {{ return(expression) }}
{%- endmacro %}

{#- The last row any recursion is still being seeded on (MACD's signal, rows 25..33): from the
    next row on every step is the smoothing alone. -#}
{% macro features_seeded_row() -%}
    {{ return(33) }}
{%- endmacro %}
