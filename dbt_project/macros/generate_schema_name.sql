{#
    Custom schemas are used as named (`staging`, `seeds`), not prefixed with the target
    schema: marts land in the target's own schema (`main` on DuckDB, `public` on Postgres)
    where analysts query them unqualified, raw data stays in dlt's `raw`.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
