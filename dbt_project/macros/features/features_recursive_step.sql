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
#}
{% macro features_recursive_step(states, bars_relation) -%}
    {%- set prev = 'prev' -%}
    {%- set cur = 'cur' -%}
    {%- set d = 'double precision' -%}
    {%- set rn = cur ~ '.rn' -%}
    {%- set close = cur ~ '.close' -%}
    {%- set gain = 'case when ' ~ cur ~ '.close_change > 0 then ' ~ cur ~ '.close_change else cast(0 as ' ~ d ~ ') end' -%}
    {%- set loss = 'case when ' ~ cur ~ '.close_change < 0 then -' ~ cur ~ '.close_change else cast(0 as ' ~ d ~ ') end' -%}

    {%- set e12 -%}
        case
            when {{ rn }} < 11 then {{ prev }}.e12 + {{ close }}
            when {{ rn }} = 11 then ({{ prev }}.e12 + {{ close }}) / 12
            else ({{ close }} - {{ prev }}.e12) * (cast(2 as {{ d }}) / 13) + {{ prev }}.e12
        end
    {%- endset -%}
    {%- set e26 -%}
        case
            when {{ rn }} < 25 then {{ prev }}.e26 + {{ close }}
            when {{ rn }} = 25 then ({{ prev }}.e26 + {{ close }}) / 26
            else ({{ close }} - {{ prev }}.e26) * (cast(2 as {{ d }}) / 27) + {{ prev }}.e26
        end
    {%- endset -%}
    {#- MACD's fast EMA: seeded with the mean of closes 14..25 so that it starts with the slow one. -#}
    {%- set fast -%}
        case
            when {{ rn }} < 14 then cast(0 as {{ d }})
            when {{ rn }} < 25 then {{ prev }}.fast + {{ close }}
            when {{ rn }} = 25 then ({{ prev }}.fast + {{ close }}) / 12
            else ({{ close }} - {{ prev }}.fast) * (cast(2 as {{ d }}) / 13) + {{ prev }}.fast
        end
    {%- endset -%}
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
    {%- set wilder_average = {} -%}
    {%- for name, x in [('gain', gain), ('loss', loss), ('atr', cur ~ '.true_range')] -%}
        {%- set expression -%}
            case
                when {{ rn }} = 0 then cast(0 as {{ d }})
                when {{ rn }} < 14 then {{ prev }}.{{ name }} + {{ x }}
                when {{ rn }} = 14 then ({{ prev }}.{{ name }} + {{ x }}) / 14
                else ({{ prev }}.{{ name }} * 13 + {{ x }}) / 14
            end
        {%- endset -%}
        {%- do wilder_average.update({name: expression}) -%}
    {%- endfor -%}
    {#- ADX: Wilder's smoothed sums (not averages) of +DM, -DM and TR. -#}
    {%- set wilder_sum = {} -%}
    {%- for name, x in [('pdm', cur ~ '.plus_dm'), ('mdm', cur ~ '.minus_dm'), ('trs', cur ~ '.true_range')] -%}
        {%- set expression -%}
            case
                when {{ rn }} = 0 then cast(0 as {{ d }})
                when {{ rn }} < 14 then {{ prev }}.{{ name }} + {{ x }}
                else {{ prev }}.{{ name }} - {{ prev }}.{{ name }} / 14 + {{ x }}
            end
        {%- endset -%}
        {%- do wilder_sum.update({name: expression}) -%}
    {%- endfor -%}
    {#- outer level: `step` holds the advanced states and the previous sig and adx -#}
    {%- set macd = '(step.fast - step.e26)' -%}
    {%- set pdi = '(100 * (step.pdm / step.trs))' -%}
    {%- set mdi = '(100 * (step.mdm / step.trs))' -%}
    {%- set dx_defined = '(step.trs <> 0 and step.pdm + step.mdm <> 0)' -%}
    {%- set dx = '(100 * (abs(' ~ mdi ~ ' - ' ~ pdi ~ ') / (' ~ mdi ~ ' + ' ~ pdi ~ ')))' -%}
    select
        step.asset_id,
        step.rn,
        step.e12,
        step.e26,
        step.fast,
        case
            when step.rn < 25 then cast(0 as {{ d }})
            when step.rn < 33 then step.previous_sig + {{ macd }}
            when step.rn = 33 then (step.previous_sig + {{ macd }}) / 9
            else ({{ macd }} - step.previous_sig) * (cast(2 as {{ d }}) / 10) + step.previous_sig
        end as sig,
        step.gain,
        step.loss,
        step.atr,
        step.pdm,
        step.mdm,
        step.trs,
        case
            when step.rn < 14 then cast(0 as {{ d }})
            when step.rn < 27 then step.previous_adx + case when {{ dx_defined }} then {{ dx }} else 0 end
            when step.rn = 27 then (step.previous_adx + case when {{ dx_defined }} then {{ dx }} else 0 end) / 14
            when {{ dx_defined }} then (step.previous_adx * 13 + {{ dx }}) / 14
            else step.previous_adx
        end as adx,
        step.obv,
        step.max_close

    from (

        select
            {{ cur }}.asset_id,
            {{ rn }} as rn,
            {{ e12 }} as e12,
            {{ e26 }} as e26,
            {{ fast }} as fast,
            {{ prev }}.sig as previous_sig,
            {{ wilder_average['gain'] }} as gain,
            {{ wilder_average['loss'] }} as loss,
            {{ wilder_average['atr'] }} as atr,
            {{ wilder_sum['pdm'] }} as pdm,
            {{ wilder_sum['mdm'] }} as mdm,
            {{ wilder_sum['trs'] }} as trs,
            {{ prev }}.adx as previous_adx,
            {{ obv }} as obv,
            greatest({{ prev }}.max_close, {{ close }}) as max_close

        {#- the states are the join's build side: written last (see features_written_join_order) #}
        from {{ bars_relation }} as {{ cur }}
        inner join {{ states }} as {{ prev }}
            on
                {{ cur }}.asset_id = {{ prev }}.asset_id
                and {{ cur }}.rn = {{ prev }}.rn + 1

    ) as step
{%- endmacro %}
