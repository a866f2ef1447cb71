// The Jinja interpreter behind ChatTemplate. Expected texts come from jinja2
// 3.1.6 in transformers' environment (transformers.utils.chat_template_utils.
// _compile_jinja_template(template).render(**context)); the errors are what
// it raised there. tests/parity/chat_template_parity_test.cpp checks the real
// templates.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "finch/core/error.h"
#include "finch/tokenizer/chat_template.h"

namespace finch::tokenizer {
namespace {

std::string render(const std::string& source, const std::string& context = "{}") {
  return ChatTemplate(source, "t").render(nlohmann::ordered_json::parse(context));
}

// The message of the finch::Error that parsing or rendering throws ("" if none).
std::string error_of(const std::string& source, const std::string& context = "{}") {
  try {
    render(source, context);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

struct Case {
  const char* name;
  const char* source;
  const char* context;
  const char* expected;
};

// Each construct, rendered as jinja2 renders it.
const Case kCases[] = {
    {"text_and_output", R"J(Hello {{ name }}!)J",
     R"J({"name": "finch"})J",
     R"J(Hello finch!)J"},
    {"trailing_newline_dropped", R"J(a
)J",
     R"J({})J",
     R"J(a)J"},
    {"only_one_trailing_newline_dropped", R"J(a

)J",
     R"J({})J",
     R"J(a
)J"},
    {"crlf_normalised", R"J(a
b)J",
     R"J({})J",
     R"J(a
b)J"},
    {"python_str_of_values", R"J({{ none }}|{{ true }}|{{ false }}|{{ 1 }}|{{ 1.0 }}|{{ 0.1 }}|{{ 1e20 }}|{{ 1.5e-7 }}|{{ [1, 'a', none] }}|{{ {'k': 'v', 'n': [true]} }}|{{ (1,) }}|{{ ('a', 2) }})J",
     R"J({})J",
     R"J(None|True|False|1|1.0|0.1|1e+20|1.5e-07|[1, 'a', None]|{'k': 'v', 'n': [True]}|(1,)|('a', 2))J"},
    {"repr_quotes", R"J({{ ["it's", 'say "hi"', 'both \' "', 'tab\there'] }})J",
     R"J({})J",
     R"J(["it's", 'say "hi"', 'both \' "', 'tab\there'])J"},
    {"json_floats_ints", R"J({{ x }} {{ y }} {{ x / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 7 }})J",
     R"J({"x": 3, "y": 2.5})J",
     R"J(3 2.5 1.5 3 -4 2 1024 1.0)J"},
    {"undefined_prints_empty", R"J([{{ missing }}][{{ d.missing }}])J",
     R"J({"d": {}})J",
     R"J([][])J"},
    {"undefined_tests", R"J({{ missing is defined }} {{ missing is undefined }} {{ d.x is defined }} {{ none is none }})J",
     R"J({"d": {"x": 1}})J",
     R"J(False True True True)J"},
    {"truthiness", R"J({% for v in [0, 1, '', 'a', [], [0], {}, none, 0.0] %}{{ 'T' if v else 'F' }}{% endfor %})J",
     R"J({})J",
     R"J(FTFTFTFFF)J"},
    {"and_or_return_operands", R"J({{ 0 or 'x' }}|{{ 'a' and 'b' }}|{{ '' and 'b' }}|{{ not 0 }})J",
     R"J({})J",
     R"J(x|b||True)J"},
    {"comparisons_chain", R"J({{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ true == 1 }} {{ [1,2] == [1,2] }} {{ 'a' != 'b' }})J",
     R"J({})J",
     R"J(True False True True True True True)J"},
    {"in_operator", R"J({{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'cat' }} {{ 'x' in missing }})J",
     R"J({})J",
     R"J(True True True True False)J"},
    {"concat_tilde", R"J({{ 'a' ~ 1 ~ none ~ missing ~ [1] }})J",
     R"J({})J",
     R"J(a1None[1])J"},
    {"string_repetition_and_concat", R"J({{ 'ab' * 3 }}{{ [1] + [2] }}{{ 'x' + 'y' }})J",
     R"J({})J",
     R"J(ababab[1, 2]xy)J"},
    {"slicing", R"J({{ 'hello'[1:3] }}|{{ 'hello'[::-1] }}|{{ [1,2,3,4][1:] }}|{{ [1,2,3,4][-2:] }}|{{ 'héllo'[1] }}|{{ [1,2,3][::2] }}|{{ 'abc'[-1] }})J",
     R"J({})J",
     R"J(el|olleh|[2, 3, 4]|[3, 4]|é|[1, 3]|c)J"},
    {"inline_if", R"J({{ 'yes' if x else 'no' }}|{{ 'only' if x }}|{{ 'only' if not x }})J",
     R"J({"x": false})J",
     R"J(no||only)J"},
    {"whitespace_control_minus", R"J(a  {%- if true -%}  b  {%- endif -%}  c
  {{- ' d ' -}}  e)J",
     R"J({})J",
     R"J(abc d e)J"},
    {"trim_blocks", R"J({% if true %}
yes
{% endif %}
after)J",
     R"J({})J",
     R"J(yes
after)J"},
    {"lstrip_blocks", R"J(<
    {% if true %}
    x
    {% endif %}
>)J",
     R"J({})J",
     R"J(<
    x
>)J"},
    {"lstrip_not_for_variables", R"J(<
    {{ 'v' }}
>)J",
     R"J({})J",
     R"J(<
    v
>)J"},
    {"plus_disables_lstrip_and_trim", R"J(<
    {%+ if true +%}
x
    {%+ endif %}>)J",
     R"J({})J",
     R"J(<
    
x
    >)J"},
    {"lstrip_after_text_on_line", R"J(a {% if true %}b{% endif %})J",
     R"J({})J",
     R"J(a b)J"},
    {"comments", R"J(a{# comment #}b
  {# own line #}
c {#- strip -#} d)J",
     R"J({})J",
     R"J(ab
cd)J"},
    {"raw_block", R"J({% raw %}{{ not evaluated }}{% endraw %})J",
     R"J({})J",
     R"J({{ not evaluated }})J"},
    {"for_loop_vars", R"J({% for x in ['a','b','c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %})J",
     R"J({})J",
     R"J(1032TrueFalse3b;2121FalseFalse3ac;3210FalseTrue3b;)J"},
    {"for_filter_and_else", R"J({% for x in [1,2,3,4] if x is even %}{{ x }}{{ loop.length }}{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %})J",
     R"J({})J",
     R"J(2242|empty)J"},
    {"for_dict_items_unpack", R"J({% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %})J",
     R"J({"d": {"b": 1, "a": 2}})J",
     R"J(b=1;a=2;ba)J"},
    {"break_continue", R"J({% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %})J",
     R"J({})J",
     R"J(0134)J"},
    {"loop_cycle", R"J({% for x in range(5) %}{{ loop.cycle('a', 'b') }}{% endfor %})J",
     R"J({})J",
     R"J(ababa)J"},
    {"set_in_loop_does_not_leak", R"J({% set x = 1 %}{% for i in [1, 2] %}{% set x = 2 %}{% endfor %}{{ x }})J",
     R"J({})J",
     R"J(1)J"},
    {"set_in_loop_persists_across_iterations", R"J({% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = 2 %}{% endfor %})J",
     R"J({})J",
     R"J(11)J"},
    {"set_in_if_leaks", R"J({% if true %}{% set x = 5 %}{% endif %}{{ x }})J",
     R"J({})J",
     R"J(5)J"},
    {"namespace", R"J({% set ns = namespace(n=0, s='') %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.n }} {{ ns.s }})J",
     R"J({})J",
     R"J(3 012)J"},
    {"set_tuple", R"J({% set a, b = 1, 2 %}{{ a }}{{ b }})J",
     R"J({})J",
     R"J(12)J"},
    {"set_block", R"J({% set x %}  Hello {{ name }}  {% endset %}[{{ x }}]{% set y | upper %}abc{% endset %}{{ y }})J",
     R"J({"name": "n"})J",
     R"J([  Hello n  ]ABC)J"},
    {"macro_defaults_kwargs", R"J({% macro greet(name, greeting='Hi') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('A') }} {{ greet('B', greeting='Yo') }} {{ greet(name='C') }})J",
     R"J({})J",
     R"J(Hi, A! Yo, B! Hi, C!)J"},
    {"macro_sees_globals", R"J({% macro f() %}{{ g }}{% endmacro %}{% set g = 'G' %}{{ f() }})J",
     R"J({})J",
     R"J(G)J"},
    {"macro_varargs_caller", R"J({% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{{ varargs }}{% endmacro %}{% call wrap('b', 1, 2) %}inner{% endcall %})J",
     R"J({})J",
     R"J(<b>inner</b>(1, 2))J"},
    {"filter_block", R"J({% filter upper %}hello {{ 'world' }}{% endfilter %})J",
     R"J({})J",
     R"J(HELLO WORLD)J"},
    {"with_block", R"J({% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }})J",
     R"J({})J",
     R"J(3)J"},
    {"string_methods", R"J({{ '  x  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  x'.lstrip() }}|{{ 'x  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a-b-c'.rsplit('-', 1) }})J",
     R"J({})J",
     R"J(x|a|x|x|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|['a-b', 'c'])J"},
    {"string_methods_2", R"J({{ 'abc'.startswith('a') }}{{ 'abc'.endswith(('x', 'c')) }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}|{{ '-'.join(['a', 'b']) }}|{{ '{} and {name}'.format(1, name='n') }}|{{ 'abcb'.find('b') }}{{ 'abcb'.count('b') }})J",
     R"J({})J",
     R"J(TrueTrue|bba|Hello World|Hello|ABab|a-b|1 and n|12)J"},
    {"dict_methods", R"J({{ d.get('a') }}|{{ d.get('zz') }}|{{ d.get('zz', 5) }}|{{ d.keys() | list }}|{{ d.values() | list }}|{{ d.items() | list }}|{{ d['a'] }}|{{ d.a }})J",
     R"J({"d": {"a": 1, "b": [2]}})J",
     R"J(1|None|5|['a', 'b']|[1, [2]]|[('a', 1), ('b', [2])]|1|1)J"},
    {"filters_text", R"J({{ '  x  ' | trim }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hello world-wide' | title }}|{{ 'hELLO' | capitalize }}|{{ 'aXbX' | replace('X', '-') }}|{{ 'a b  c' | wordcount }}|{{ 'abc' | center(7) }}|{{ 'abc' | reverse }})J",
     R"J({})J",
     R"J(x|ABC|abc|Hello World-Wide|Hello|a-b-|3|  abc  |cba)J"},
    {"filters_default", R"J({{ missing | default('d') }}|{{ none | default('d') }}|{{ '' | default('d') }}|{{ '' | default('d', true) }}|{{ missing | d('x') }})J",
     R"J({})J",
     R"J(d|None||d|x)J"},
    {"filters_length_first_last", R"J({{ [1,2,3] | length }}{{ 'héllo' | length }}{{ {'a':1} | count }}{{ missing | length }}|{{ [1,2] | first }}{{ [1,2] | last }}|{{ 'abc' | first }})J",
     R"J({})J",
     R"J(3510|12|a)J"},
    {"filters_join_map_select", R"J({{ [1,2,3] | join(', ') }}|{{ users | map(attribute='name') | join(',') }}|{{ users | selectattr('admin') | map(attribute='name') | list }}|{{ users | rejectattr('admin') | map(attribute='name') | list }}|{{ [1,2,3,4] | select('odd') | list }}|{{ [1,2,3,4] | reject('odd') | list }}|{{ users | selectattr('name', 'equalto', 'b') | list | length }}|{{ ['a','B'] | map('upper') | list }})J",
     R"J({"users": [{"name": "a", "admin": true}, {"name": "b", "admin": false}]})J",
     R"J(1, 2, 3|a,b|['a']|['b']|[1, 3]|[2, 4]|1|['A', 'B'])J"},
    {"filters_numbers", R"J({{ '42' | int }}|{{ '4.7' | int }}|{{ 'x' | int }}|{{ 'x' | int(7) }}|{{ 3 | float }}|{{ '2.5' | float }}|{{ -3 | abs }}|{{ 2.567 | round(2) }}|{{ 2.5 | round }}|{{ [1, 2.5] | sum }}|{{ [3, 1, 2] | min }}{{ [3, 1, 2] | max }})J",
     R"J({})J",
     R"J(42|4|0|7|3.0|2.5|3|2.57|2.0|3.5|13)J"},
    {"filters_collections", R"J({{ [3, 1, 2] | sort }}|{{ ['b', 'A', 'c'] | sort }}|{{ [3, 1, 2] | sort(reverse=true) }}|{{ [1, 2, 1, 3] | unique | list }}|{{ {'b': 1, 'a': 2} | dictsort }}|{{ {'b': 1} | items | list }}|{{ [1,2,3,4,5] | batch(2) | list }}|{{ 'ab' | list }}|{{ [1, 2] | reverse | list }})J",
     R"J({})J",
     R"J([1, 2, 3]|['A', 'b', 'c']|[3, 2, 1]|[1, 2, 3]|[('a', 2), ('b', 1)]|[('b', 1)]|[[1, 2], [3, 4], [5]]|['a', 'b']|[2, 1])J"},
    {"filter_tojson", R"J({{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ d | tojson(separators=(',', ':')) }}|{{ d | tojson(sort_keys=true) }}|{{ 'é"\n' | tojson }}|{{ [1.0, none, true] | tojson }})J",
     R"J({"d": {"z": 1, "a": [1, {"b": "c"}], "e": {}}})J",
     R"J({"z": 1, "a": [1, {"b": "c"}], "e": {}}|{
  "z": 1,
  "a": [
    1,
    {
      "b": "c"
    }
  ],
  "e": {}
}|{"z":1,"a":[1,{"b":"c"}],"e":{}}|{"a": [1, {"b": "c"}], "e": {}, "z": 1}|"é\"\n"|[1.0, null, true])J"},
    {"filter_indent", R"J({{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}|{{ 'a\n\nb' | indent(2, blank=true) }})J",
     R"J({})J",
     R"J(a
  b

  c|  a
  b|a
  
  b)J"},
    {"filter_string_safe_escape", R"J({{ 1 | string }}{{ [1] | string }}|{{ '<a>' | safe }}|{{ '<a & "b">' | e }}|{{ '<b>' | safe + '<i>' }})J",
     R"J({})J",
     R"J(1[1]|<a>|&lt;a &amp; &#34;b&#34;&gt;|<b>&lt;i&gt;)J"},
    {"filter_format_and_percent", R"J({{ '%s-%d' | format('a', 3) }}|{{ '%s and %s' % ('x', 'y') }}|{{ '%.2f' % 3.14159 }}|{{ '%5s|%-5s|' % ('a', 'b') }})J",
     R"J({})J",
     R"J(a-3|x and y|3.14|    a|b    |)J"},
    {"filter_truncate", R"J({{ 'hello world foo bar' | truncate(12) }}|{{ 'hello world foo bar' | truncate(12, true) }}|{{ 'short' | truncate(10) }})J",
     R"J({})J",
     R"J(hello...|hello wor...|short)J"},
    {"tests_types", R"J({{ 'a' is string }}{{ 1 is number }}{{ 1 is integer }}{{ 1.0 is float }}{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is iterable }}{{ [] is sequence }}{{ true is boolean }}{{ none is none }}{{ range is callable }}{{ true is true }}{{ false is false }}{{ 1 is true }})J",
     R"J({})J",
     R"J(TrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueTrueFalse)J"},
    {"tests_compare", R"J({{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 2 is eq 2 }}{{ 2 is ne 3 }}{{ 1 is lt 2 }}{{ 2 is gt 1 }}{{ 2 is le 2 }}{{ 2 is ge 3 }}{{ 'a' is in 'cat' }}{{ 'ab' is lower }}{{ 'AB' is upper }}{{ x is sameas none }})J",
     R"J({"x": null})J",
     R"J(TrueTrueTrueTrueTrueTrueTrueTrueFalseTrueTrueTrueTrue)J"},
    {"is_not", R"J({{ x is not none }}{{ x is not defined }}{{ 1 is not string }})J",
     R"J({"x": 1})J",
     R"J(TrueFalseTrue)J"},
    {"range_global", R"J({{ range(3) | list }}{{ range(1, 7, 2) | list }}{{ range(3, 0, -1) | list }})J",
     R"J({})J",
     R"J([0, 1, 2][1, 3, 5][3, 2, 1])J"},
    {"dict_global", R"J({{ dict(a=1, b='x') }})J",
     R"J({})J",
     R"J({'a': 1, 'b': 'x'})J"},
    {"strings_escapes", R"J({{ 'a\tb\\c\u00e9\x41' }}|{{ "it's" }}|{{ 'ab' 'cd' }})J",
     R"J({})J",
     R"J(a	b\céA|it's|abcd)J"},
    {"int_dict_keys", R"J({% set d = {0: 'zero', 1: 'one'} %}{{ d[0] }}{{ d }}{{ d | tojson }}{% for k, v in d | dictsort %}{{ k }}{% endfor %})J",
     R"J({})J",
     R"J(zero{0: 'zero', 1: 'one'}{"0": "zero", "1": "one"}01)J"},
    {"attr_on_none_is_undefined", R"J([{{ (none).x }}]{{ n.x is defined }})J",
     R"J({"n": null})J",
     R"J([]False)J"},
    {"messages_like_template", R"J({% for m in messages %}{% if m['role'] == 'system' %}<<SYS>>{{ m['content'] | trim }}<</SYS>>{% elif m.role == 'user' %}[INST] {{ m.content }} [/INST]{% else %}{{ m.content }}{{ eos_token }}{% endif %}
{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %})J",
     R"J({"messages": [{"role": "system", "content": " S "}, {"role": "user", "content": "U"}, {"role": "assistant", "content": "A"}], "eos_token": "</s>", "add_generation_prompt": true})J",
     R"J(<<SYS>>S<</SYS>>[INST] U [/INST]A</s>ASSISTANT:)J"},
    {"unicode_methods", R"J({{ 'ÉCOLE' | lower }} {{ 'straße' | upper }} {{ 'ça va' | title }} {{ 'ünï' | capitalize }})J",
     R"J({})J",
     R"J(école STRASSE Ça Va Ünï)J"},
    {"nested_loops_loop_var", R"J({% for a in [1, 2] %}{% for b in [3, 4] %}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %})J",
     R"J({})J",
     R"J(121;122;)J"},
    {"macro_recursion", R"J({% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n }}*{{ fact(n - 1) }}{% endif %}{% endmacro %}{{ fact(4) }})J",
     R"J({})J",
     R"J(4*3*2*1)J"},
    {"generation_tag", R"J({% generation %}gen {{ 1 }}{% endgeneration %})J",
     R"J({})J",
     R"J(gen 1)J"},
    {"joiner", R"J({% set j = joiner('|') %}{% for x in 'abc' %}{{ j() }}{{ x }}{% endfor %})J",
     R"J({})J",
     R"J(a|b|c)J"},
    {"loop_changed_previtem", R"J({% for x in [1, 1, 2] %}{{ loop.previtem is defined }}{% endfor %})J",
     R"J({})J",
     R"J(FalseTrueTrue)J"},
    {"float_formatting", R"J({{ 1/3 }} {{ 2.0 * 3 }} {{ 1e16 }} {{ 123456789012345678.0 }} {{ 0.0001 }} {{ 0.00001 }} {{ -0.0 }} {{ 3 * 1.1 }})J",
     R"J({})J",
     R"J(0.3333333333333333 6.0 1e+16 1.2345678901234568e+17 0.0001 1e-05 -0.0 3.3000000000000003)J"},
    {"list_methods", R"J({{ [1, 2, 2].count(2) }}{{ ['a', 'b'].index('b') }})J",
     R"J({})J",
     R"J(21)J"},
    {"subscript_string_key_falls_back_to_method", R"J({{ d['items']() | list }})J",
     R"J({"d": {"a": 1}})J",
     R"J([('a', 1)])J"},
    {"unknown_filter", R"J({% if false %}{{ x | nosuchfilter }}{% endif %})J",
     R"J({})J",
     R"J()J"},
};

TEST(Jinja, RendersLikeJinja2) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    std::string got;
    ASSERT_NO_THROW(got = render(c.source, c.context)) << error_of(c.source, c.context);
    EXPECT_EQ(got, c.expected);
  }
}

// Templates jinja2 refuses (at compile or render time); finch must refuse them too.
// The third field is what jinja2 said, for the reader.
const Case kErrors[] = {
    {"undefined_attribute_of_undefined", R"J({{ missing.x }})J", R"J({})J",
     R"J(UndefinedError: 'missing' is undefined)J"},
    {"call_undefined", R"J({{ missing() }})J", R"J({})J",
     R"J(UndefinedError: 'missing' is undefined)J"},
    {"raise_exception", R"J({{ raise_exception('Roles must alternate!') }})J", R"J({})J",
     R"J(TemplateError: Roles must alternate!)J"},
    {"list_append_refused", R"J({% set l = [] %}{{ l.append(1) }})J", R"J({})J",
     R"J(SecurityError: access to attribute 'append' of 'list' object is unsafe.)J"},
    {"dict_update_refused", R"J({% set d = {} %}{{ d.update({'a': 1}) }})J", R"J({})J",
     R"J(SecurityError: access to attribute 'update' of 'dict' object is unsafe.)J"},
    {"dict_pop_refused", R"J({{ d.pop('a') }})J", R"J({"d": {"a": 1}})J",
     R"J(SecurityError: access to attribute 'pop' of 'dict' object is unsafe.)J"},
    {"unknown_test", R"J({{ x is nosuchtest }})J", R"J({})J",
     R"J(TemplateAssertionError: No test named 'nosuchtest'.)J"},
    {"unknown_tag", R"J({% nosuchtag %})J", R"J({})J",
     R"J(TemplateSyntaxError: Encountered unknown tag 'nosuchtag'.)J"},
    {"unclosed_block", R"J({% if true %}x)J", R"J({})J",
     R"J(TemplateSyntaxError: Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The innermost block that needs to be closed is 'if'.)J"},
    {"add_str_int", R"J({{ 'a' + 1 }})J", R"J({})J",
     R"J(TypeError: can only concatenate str (not "int") to str)J"},
    {"iterate_none", R"J({% for x in none %}{% endfor %})J", R"J({})J",
     R"J(TypeError: 'NoneType' object is not iterable)J"},
    {"none_length", R"J({{ none | length }})J", R"J({})J",
     R"J(TypeError: object of type 'NoneType' has no len())J"},
    {"undefined_comparison", R"J({{ missing < 1 }})J", R"J({})J",
     R"J(UndefinedError: 'missing' is undefined)J"},
    {"namespace_underscore", R"J({% set ns = namespace() %}{% set ns._x = 1 %})J", R"J({})J",
     R"J(SecurityError: Chat templates cannot store underscore-prefixed attributes on a namespace, but got '_x'. Please rename the attribute.)J"},
    {"set_attr_on_dict", R"J({% set d = {} %}{% set d.x = 1 %})J", R"J({})J",
     R"J(TemplateRuntimeError: cannot assign attribute on non-namespace object)J"},
    {"divide_by_zero", R"J({{ 1 / 0 }})J", R"J({})J",
     R"J(ZeroDivisionError: division by zero)J"},
    {"macro_too_many_args", R"J({% macro f(a) %}{% endmacro %}{{ f(1, 2) }})J", R"J({})J",
     R"J(TypeError: macro 'f' takes not more than 1 argument(s))J"},
    {"tojson_undefined", R"J({{ missing | tojson }})J", R"J({})J",
     R"J(TypeError: Object of type Undefined is not JSON serializable)J"},
    {"range_too_big", R"J({{ range(1000000) | length }})J", R"J({})J",
     R"J(OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).)J"},
    {"break_outside_loop", R"J({% break %})J", R"J({})J",
     R"J(SyntaxError: 'break' outside loop (<template>, line 11))J"},
    {"include_unsupported", R"J({% include 'x' %})J", R"J({})J",
     R"J(TypeError: no loader for this environment specified)J"},
    {"underscore_attribute", R"J({{ 'a'.__class__ }}{{ ''.__class__() }})J", R"J({})J",
     R"J(SecurityError: access to attribute '__class__' of 'str' object is unsafe.)J"},
};

TEST(Jinja, FailsWhereJinja2Fails) {
  for (const Case& c : kErrors) {
    SCOPED_TRACE(c.name);
    std::string message = error_of(c.source, c.context);
    EXPECT_FALSE(message.empty()) << "expected an error like: " << c.expected;
    EXPECT_EQ(message.rfind("t:", 0), 0u) << message;  // names the template
  }
}

// Found by the fuzzer: integer keys past int64 in `x.N`, attribute paths and
// format fields are template errors, not crashes.
TEST(Jinja, HugeIntegerKeysAreErrors) {
  for (const char* source : {"{{ m.99999999999999999999 }}", "{{ [m] | map(attribute='99999999999999999999') | list }}",
                             "{{ '{0[99999999999999999999]}'.format(m) }}"}) {
    SCOPED_TRACE(source);
    EXPECT_EQ(error_of(source, R"({"m": [1]})").rfind("t:", 0), 0u);
  }
}

// Found by comparing random templates with jinja2: lazy filter results, dict
// views, block-set scoping, Markup.
TEST(Jinja, PythonObjectQuirks) {
  // select/map/... return generators: always true, printed lazily, fine to join or list.
  EXPECT_EQ(render(R"({{ "yes" if ([] | select) else "no" }})"), "yes");
  EXPECT_EQ(render(R"({{ ["a"] | map("upper") | join }})"), "A");
  EXPECT_NE(error_of("{{ [1] | map('string') | length }}"), "");  // len() of a generator
  EXPECT_EQ(render("{{ d.keys() }}|{{ d.items() | list }}|{{ d.values() | length }}", R"({"d": {"a": 1}})"),
            "dict_keys(['a'])|[('a', 1)]|1");
  EXPECT_EQ(render("{% set x = 1 %}{% set y %}{% set x = 2 %}{{ x }}{% endset %}{{ x }}{{ y }}"), "12");
  EXPECT_EQ(render(R"({{ "%s" % [1] }}|{{ "<" | safe + "<" }}|{{ ["x" | safe] }})"), "[1]|<&lt;|[Markup('x')]");
}

// lstrip_blocks after {% endraw %} depends on whether the endraw tag ended a line.
TEST(Jinja, RawBlockEndsALineForLstrip) {
  EXPECT_EQ(render("x{% raw %}{{ r }}{% endraw %}\n\t{% if true %}y{% endif %}"), "x{{ r }}y");
  EXPECT_EQ(render("x{% raw -%}\n{{ r }}\n  {% endraw %}\t{% if true %}y{% endif %}"), "x{{ r }}\n\ty");
}

TEST(Jinja, ParseErrorsNameLineAndColumn) {
  EXPECT_EQ(error_of("line one\n{% if x %}\n  {% nosuchtag %}\n{% endif %}"),
            "t:3:6: Encountered unknown tag 'nosuchtag'");
  EXPECT_EQ(error_of("{{ x | nosuchfilter }}"), "t:1:8: No filter named 'nosuchfilter'.");
  EXPECT_EQ(error_of("\n\n  {{ 1 + }}"), "t:3:10: unexpected end of print statement");
  EXPECT_EQ(error_of("{% for x in y %}"), "t:1:17: unexpected end of template, expected 'endfor' or 'else'");
  EXPECT_EQ(error_of("{{ 'abc }}"), "t:1:4: unexpected end of string");
  EXPECT_EQ(error_of("{# never closed"), "t:1:1: Missing end of comment tag");
}

TEST(Jinja, RuntimeErrorsNameLineAndColumn) {
  EXPECT_EQ(error_of("ok\n{{ 'a' + 1 }}"), "t:2:8: can only concatenate str (not \"int\") to str");
  EXPECT_EQ(error_of("{% for m in messages %}\n{{ m.content.x.y }}{% endfor %}", R"({"messages": [{}]})"),
            "t:2:13: 'dict object' has no attribute 'content'");
  EXPECT_EQ(error_of("{{ none | length }}"), "t:1:11: object of type 'NoneType' has no len()");
}

TEST(Jinja, RaiseExceptionCarriesTheMessage) {
  std::string message = error_of(
      "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation roles must alternate user/assistant') }}"
      "{% endif %}",
      R"({"messages": [{"role": "assistant"}]})");
  EXPECT_NE(message.find("Conversation roles must alternate user/assistant"), std::string::npos) << message;
  EXPECT_EQ(message.rfind("t:1:", 0), 0u) << message;
}

TEST(Jinja, SandboxRefusesMutatingMethods) {
  EXPECT_EQ(error_of("{% set l = [1] %}{{ l.append(2) }}"),
            "t:1:29: access to attribute 'append' of 'list' object is unsafe.");
  EXPECT_NE(error_of("{{ d.update({'a': 2}) }}", R"({"d": {}})").find("'update' of 'dict' object is unsafe"),
            std::string::npos);
  EXPECT_NE(error_of("{{ m.pop('content') }}", R"({"m": {"content": "x"}})").find("unsafe"), std::string::npos);
  // Looking the method up is harmless; only calling it fails, as in jinja2.
  EXPECT_EQ(render("[{{ l.append }}]", R"({"l": []})"), "[]");
  // A namespace is the one thing templates may assign to.
  EXPECT_EQ(render("{% set ns = namespace(x=1) %}{% set ns.x = 2 %}{{ ns.x }}"), "2");
}

TEST(Jinja, UnknownFilterUnderIfFailsOnlyWhenRun) {
  const char* source = "{% if x %}{{ x | nosuchfilter }}{% endif %}";
  EXPECT_EQ(render(source, R"({"x": false})"), "");
  EXPECT_EQ(error_of(source, R"({"x": true})"), "t:1:18: No filter named 'nosuchfilter'.");
}

TEST(Jinja, ContextKeyOrderIsKeptByTojson) {
  const char* source = "{{ tools | tojson }}";
  auto ordered = nlohmann::ordered_json::parse(R"({"tools": [{"type": "function", "b": 1, "a": 2}]})");
  EXPECT_EQ(ChatTemplate(source, "t").render(ordered), R"([{"type": "function", "b": 1, "a": 2}])");
  // Plain nlohmann::json sorts its keys; the text follows that order.
  EXPECT_EQ(ChatTemplate(source, "t").render(nlohmann::json::parse(ordered.dump())),
            R"([{"a": 2, "b": 1, "type": "function"}])");
}

TEST(Jinja, LimitsStopRunawayTemplates) {
  jinja::Limits limits;
  limits.max_loop_iterations = 1000;
  limits.max_output_bytes = 1 << 16;
  limits.max_call_depth = 20;
  auto error = [&](const std::string& source) {
    try {
      ChatTemplate(source, "t", limits).render(nlohmann::ordered_json::object());
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("{% for i in range(100) %}{% for j in range(100) %}{% endfor %}{% endfor %}").find("loop iterations"),
            std::string::npos);
  EXPECT_NE(error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}").find("nested more than 20"), std::string::npos);
  EXPECT_NE(error("{{ 'x' * 100000 }}").find("output exceeds"), std::string::npos);
  EXPECT_NE(error("{{ 'x' * 9223372036854775807 }}").find("output exceeds"), std::string::npos);
  std::string deep = std::string(500, '(') + "1" + std::string(500, ')');
  EXPECT_NE(error("{{ " + deep + " }}").find("nesting too deep"), std::string::npos);
}

TEST(Jinja, RendersFromManyThreads) {
  ChatTemplate tpl("{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}", "t");
  auto ctx = nlohmann::ordered_json::parse(R"({"messages": [{"role": "user", "content": "hi"}]})");
  std::vector<std::thread> threads;
  std::vector<std::string> out(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) out[t] = tpl.render(ctx);
    });
  for (auto& t : threads) t.join();
  for (const auto& o : out) EXPECT_EQ(o, "user:hi;");
}

TEST(Jinja, StrftimeNowUsesTheFormat) {
  std::string year = render("{{ strftime_now('%Y') }}");
  ASSERT_EQ(year.size(), 4u);
  EXPECT_GE(std::stoi(year), 2024);
}

}  // namespace
}  // namespace finch::tokenizer
