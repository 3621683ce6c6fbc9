{#
    Tests that cost what the day costs. On a daily run an error gate on a change-scoped mart
    (var('change_scoped_models'): the mart and its date column) reads only the rows of the
    assets this build changed, from their `context_from` on (int_bar_changes: the changed days
    and the bars before them each test needs). `--vars '{check_all: true}'` (`market-elt check
    --all`, weekly in prefect.yaml) reads everything. Every published row was in the scope of
    the run that published it, so every one has passed every error test at least once.
#}

{#- dbt's hook for a test's model (the `where` config): the mart, narrowed to this build's changes -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set scope = (change_scope_filter(relation.identifier, 'scoped') if relation.identifier is not none else 'true') | trim -%}
    {%- if not where and scope == 'true' -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set filtered -%}
        (select * from {{ relation }} as scoped where ({{ where or 'true' }}) and {{ scope }}) dbt_subquery
    {%- endset -%}
    {{ return(filtered) }}
{%- endmacro %}

{#-
    SQL keeping the rows of `model_name` (aliased `alias`) that this build's changes put in
    scope: `true` when nothing narrows it (check_all, a model not change-scoped, no changes
    table yet). `from_column`: `context_from` (the rows a test reads) or `changed_from` (the
    rows it may report: the changes themselves).
-#}
{% macro change_scope_filter(model_name, alias, from_column='context_from') -%}
    {%- set date_column = var('change_scoped_models', {}).get(model_name) -%}
    {%- set changes = change_scope_changes() if date_column else none -%}
    {%- if changes is none -%}
        true
    {%- else -%}
        exists (
            select 1 from {{ changes }} as changes
            where changes.asset_id = {{ alias }}.asset_id and {{ alias }}.{{ date_column }} >= changes.{{ from_column }}
        )
    {%- endif -%}
{%- endmacro %}

{#- int_bar_changes as built, or none when everything is in scope -#}
{% macro change_scope_changes() -%}
    {%- if not execute or var('check_all', false) -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(model_relation('int_bar_changes')) }}
{%- endmacro %}

{#-
    For a test reading bars with context (a lag, a window): SQL keeping the rows it may report
    to the changed days themselves, when `model` is a change-scoped subquery
    (get_where_subquery); `true` otherwise. Rows aliased `alias` with asset_id and date.
-#}
{% macro change_scope_reported(model, alias) -%}
    {%- set changes = change_scope_changes() -%}
    {%- if changes is none or model is not string or 'changes.context_from' not in model -%}
        true
    {%- else -%}
        exists (
            select 1 from {{ changes }} as changes
            where changes.asset_id = {{ alias }}.asset_id and {{ alias }}.date >= changes.changed_from
        )
    {%- endif -%}
{%- endmacro %}
