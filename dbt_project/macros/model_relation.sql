{#
    The relation a model of this project was built as, looked up by name in the graph (not by
    ref(): for a model's own earlier output, or one read at run time without a dependency), or
    none when it is not built yet.
#}
{% macro model_relation(name) -%}
    {%- set node = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', name)
        | first -%}
    {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
{%- endmacro %}

{#
    A model's output stored by earlier runs, for an incremental model that reads it to decide
    what to recompute: none on a full refresh (everything is recomputed) or before it was built.
#}
{% macro stored_relation(name) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(model_relation(name)) }}
{%- endmacro %}
