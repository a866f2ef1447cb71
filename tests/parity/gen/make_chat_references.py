"""Renders every fixture chat template with transformers' own renderer over a
set of conversations, for finch's chat-template parity test.

Why these values are right: the text comes from
`transformers.utils.chat_template_utils.render_jinja_template`, the function
`apply_chat_template(..., tokenize=False)` calls, with the same keyword
arguments it passes (special tokens, tools=None and documents=None when absent).
The exact context the compiled template receives is captured and written next
to the text, so finch renders from the same input (after transformers' own
preprocessing, such as the reasoning-field aliases).

Usage: make_chat_references.py FIXTURES_DIR OUT_DIR
Writes OUT_DIR/references.json: [{name, source, cases: [{conversation, context,
text | error}]}]. Without FIXTURES_DIR it writes {"skipped": reason} instead.
"""
import glob
import json
import os
import sys

import transformers.utils.chat_template_utils as ctu

# Fixed so that templates that print a date (Llama 3.x) render the same text every day.
DATE_STRING = "26 Jul 2024"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}

TOOL_CALL = {"id": "call_1a2b3c4d5", "type": "function",
             "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}

# name -> (messages, extra render_jinja_template arguments)
CONVERSATIONS = {
    "system_user": ([
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello, who are you?"},
    ], {"add_generation_prompt": True}),
    "user_only": ([
        {"role": "user", "content": "What is 2+2?"},
    ], {"add_generation_prompt": True}),
    "multi_turn": ([
        {"role": "user", "content": "Hi!"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke."},
    ], {"add_generation_prompt": True}),
    "multi_turn_no_prompt": ([
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue."},
    ], {"add_generation_prompt": False}),
    "whitespace_unicode": ([
        {"role": "user", "content": "  Grüße, 世界! 🌍 {{ not a variable }} {% raw %} 'quotes' \"double\"\n\n"},
        {"role": "assistant", "content": "\n  Ça va — très bien.  \n"},
        {"role": "user", "content": "\tTabs\tand\nnewlines\n"},
    ], {"add_generation_prompt": True}),
    "tool_use": ([
        {"role": "system", "content": "You can call tools."},
        {"role": "user", "content": "What's the weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]},
        {"role": "tool", "tool_call_id": "call_1a2b3c4d5", "name": "get_weather",
         "content": "{\"temperature\": 22, \"unit\": \"celsius\"}"},
        {"role": "assistant", "content": "It is 22 °C in Paris."},
        {"role": "user", "content": "Thanks!"},
    ], {"add_generation_prompt": True, "tools": [WEATHER_TOOL]}),
    "tools_no_calls": ([
        {"role": "user", "content": "What's the weather in Paris?"},
    ], {"add_generation_prompt": True, "tools": [WEATHER_TOOL]}),
    "documents": ([
        {"role": "user", "content": "Summarise the documents."},
    ], {"add_generation_prompt": True, "documents": [
        {"title": "Finches", "text": "Finches are small passerine birds."},
        {"title": "Darwin", "text": "Darwin studied finches on the Galápagos."},
    ]}),
    "content_parts": ([
        {"role": "user", "content": [{"type": "text", "text": "Describe this picture."}, {"type": "image"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A finch on a branch."}]},
        {"role": "user", "content": [{"type": "text", "text": "What colour is it?"}]},
    ], {"add_generation_prompt": True}),
    "reasoning": ([
        {"role": "user", "content": "Is 7 prime?"},
        {"role": "assistant", "content": "Yes.", "reasoning_content": "7 has no divisors but 1 and 7."},
        {"role": "user", "content": "And 9?"},
    ], {"add_generation_prompt": True}),
    # Tool-call arguments as a JSON string (what OpenAI-style clients send), no final answer yet.
    "tool_call_string_arguments": ([
        {"role": "user", "content": "Weather in Oslo and Rome?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_000000001", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}},
            {"id": "call_000000002", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\"}"}}]},
        {"role": "tool", "tool_call_id": "call_000000001", "name": "get_weather", "content": "-3"},
        {"role": "tool", "tool_call_id": "call_000000002", "name": "get_weather", "content": "18"},
    ], {"add_generation_prompt": True, "tools": [WEATHER_TOOL]}),
    # An extra keyword argument, as `apply_chat_template(..., enable_thinking=False)` passes it.
    "thinking_disabled": ([
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Say hi."},
    ], {"add_generation_prompt": True, "enable_thinking": False}),
    "system_only_empty_user": ([
        {"role": "system", "content": "System prompt only."},
        {"role": "user", "content": ""},
    ], {"add_generation_prompt": False}),
}


def special_tokens(config_path):
    """The special tokens transformers passes to the template (its special_tokens_map)."""
    tokens = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    if config_path:
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
        for key in ("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"):
            value = config.get(key)
            if isinstance(value, dict):
                value = value.get("content")
            if isinstance(value, str):
                tokens[key] = value
            elif key in config and value is None:
                tokens.pop(key, None)
    return tokens


def collect_templates(fixtures):
    """(name, source, tokenizer_config path or None) for every fixture template."""
    out = []
    base = os.path.join(fixtures, "chat_templates")
    for path in sorted(glob.glob(os.path.join(base, "*.jinja")) + glob.glob(os.path.join(base, "community", "*.jinja"))):
        with open(path, encoding="utf-8") as f:
            out.append((os.path.relpath(path, fixtures), f.read(), None))
    for path in sorted(glob.glob(os.path.join(base, "collections", "*.json"))):
        with open(path, encoding="utf-8") as f:
            for entry in json.load(f):
                out.append((f"{os.path.relpath(path, fixtures)}#{entry['name']}", entry["template"], None))
    for path in sorted(glob.glob(os.path.join(fixtures, "hf_tokenizers", "*", "tokenizer_config.json"))):
        with open(path, encoding="utf-8") as f:
            template = json.load(f).get("chat_template")
        if isinstance(template, str):
            out.append((os.path.relpath(path, fixtures), template, path))
        elif isinstance(template, list):
            for entry in template:
                out.append((f"{os.path.relpath(path, fixtures)}#{entry['name']}", entry["template"], path))
    for path in sorted(glob.glob(os.path.join(fixtures, "hf_tokenizers", "*", "chat_template.jinja"))):
        config = os.path.join(os.path.dirname(path), "tokenizer_config.json")
        with open(path, encoding="utf-8") as f:
            out.append((os.path.relpath(path, fixtures), f.read(), config if os.path.exists(config) else None))
    return out


class CapturingTemplate:
    """Wraps a compiled template to record the exact variables it is rendered with."""

    def __init__(self, template):
        self.template = template
        self.context = None

    def render(self, **kwargs):
        self.context = kwargs
        return self.template.render(**kwargs)


def main():
    fixtures, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    out_path = os.path.join(out_dir, "references.json")
    if not os.path.isdir(os.path.join(fixtures, "chat_templates")):
        with open(out_path, "w", encoding="utf-8") as f:
            json.dump({"skipped": f"no chat template fixtures at {fixtures}"}, f)
        print(f"make_chat_references: {fixtures} is absent, skipping")
        return

    compile_template = ctu._compile_jinja_template
    capture = {}

    def compile_capturing(source):
        capture["template"] = CapturingTemplate(compile_template(source))
        return capture["template"]

    ctu._compile_jinja_template = compile_capturing
    references, cases, raised = [], 0, 0
    for name, source, config in collect_templates(fixtures):
        kwargs = special_tokens(config)
        kwargs["date_string"] = DATE_STRING
        entry = {"name": name, "source": source, "cases": []}
        for conversation, (messages, extra) in CONVERSATIONS.items():
            case = {"conversation": conversation}
            capture.clear()
            try:
                rendered, _ = ctu.render_jinja_template(conversations=[json.loads(json.dumps(messages))],
                                                        chat_template=source, **extra, **kwargs)
                case["text"] = rendered[0]
            except Exception as e:  # the template raised: finch must raise too
                case["error"] = f"{type(e).__name__}: {e}"
                raised += 1
            template = capture.get("template")
            if template is None and "error" in case:
                case["context"] = {}  # the template does not compile: finch must refuse it too
            elif template is None or template.context is None:
                continue  # transformers refused before rendering (not a template behaviour)
            else:
                case["context"] = template.context
            entry["cases"].append(case)
            cases += 1
        references.append(entry)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(references, f, ensure_ascii=False, indent=1)
    print(f"make_chat_references: {len(references)} templates, {cases} cases ({raised} raise) -> {out_path}")


if __name__ == "__main__":
    main()
