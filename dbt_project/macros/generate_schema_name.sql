{#- Layers land in their own schemas (staging, intermediate, marts, rules) without the target prefix,
    so analysts and checks address tables by the same names in every environment. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
