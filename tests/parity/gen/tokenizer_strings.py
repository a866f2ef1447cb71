"""Deterministic test strings for tokenizer parity: several scripts and
languages, emoji, long whitespace runs, code, numbers, special tokens inside
text and the empty string. Built from word lists here (so the suite does not
depend on fixtures), plus the fixture inputs when ../shared is present."""

import json
import random
from pathlib import Path

WORDS = {
    "en": "the quick brown fox jumps over lazy dog I'm you're we've they'll she'd don't can't HELLO World Tokenizer".split(),
    "fr": "café résumé naïve façade crème brûlée élève où garçon Noël".split(),
    "de": "Straße Größe über Brücke schön Mädchen Fußball Ärger".split(),
    "ru": "Привет мир Это тест токенизатора Москва ёжик съешь".split(),
    "el": "Καλημέρα κόσμε ελληνικά γλώσσα ΑΒΓΔ ςσΣ".split(),
    "ar": "مرحبا بالعالم هذا اختبار العربية".split(),
    "he": "שלום עולם בדיקה עברית".split(),
    "hi": "नमस्ते दुनिया यह परीक्षण हिन्दी क्षत्रिय".split(),
    "zh": "你好世界 这是一个测试 中文分词 北京 上海".split(),
    "ja": "こんにちは 世界 カタカナ テスト 日本語です ｶﾀｶﾅ".split(),
    "ko": "안녕하세요 세계 한국어 테스트".split(),
    "th": "สวัสดีชาวโลก ภาษาไทย".split(),
    "vi": "Tiếng Việt xin chào thế giới".split(),
    "emoji": "😀 🎉 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ 🤖 ✨ ©️ ™".split(),
    "code": ["def", "f(x):", "return", "x**2", "{", "}", "=>", "!=", "==", "&&", "||", "#include", "<vector>",
             "std::string", "0x1F", "i++", "//", "/*", "*/", "print('hi')", "`code`", "$HOME", "a_b_c", "CamelCase"],
    "num": ["0", "7", "42", "123", "2024", "3.14159", "1,000,000", "1e-9", "-17", "007", "١٢٣", "²", "½", "Ⅻ"],
    "punct": [".", ",", "!", "?", "...", "—", "–", "«", "»", "“", "”", "'", '"', "(", ")", "[", "]", "¿", "¡", "。", "、"],
    "odd": ["\u00a0", "\u200b", "\u2009", "\u3000", "\ufeff", "e\u0301", "A\u030a", "\u0130", "ﬁ", "Ⓐ", "ℌ", "\t", "\r\n"],
}
SPACES = [" ", "  ", "   ", "\n", "\n\n", "\t", " \n ", "    ", " " * 17, "\n" * 5, "\t\t ", "\u00a0 "]


def make_strings(count, specials=(), seed=0, fixtures=None):
    """`count` strings; `specials` are the tokenizer's added/special tokens to sprinkle in."""
    rng = random.Random(seed)
    out = ["", " ", "  ", "\n", "a", "Hello world", "Hello  world", " Hello", "hello\n\nworld ", "12345678901234567890",
           "   leading and trailing   ", "\t\ttabs\t", "x" * 300, "ab" * 200 + "!", "😀" * 20, "\n" * 40]
    for s in specials:
        out += [s, f"{s}text", f"text{s}", f" {s} ", f"a {s}b{s} c", f"{s}{s}", f"\n{s}\n"]
    if fixtures:
        out += [s for s in fixture_strings(fixtures)]
    groups = list(WORDS)
    while len(out) < count:
        n = rng.choice([1, 2, 3, 5, 8, 13, 30])
        lang = rng.choice(groups)
        parts = []
        for _ in range(n):
            g = lang if rng.random() < 0.7 else rng.choice(groups)
            parts.append(rng.choice(WORDS[g]))
            r = rng.random()
            if r < 0.6:
                parts.append(" ")
            elif r < 0.75:
                parts.append(rng.choice(SPACES))
            elif r < 0.8 and specials:
                parts.append(rng.choice(specials))
        s = "".join(parts)
        if rng.random() < 0.1:
            s = s.upper()
        if rng.random() < 0.1:
            s = rng.choice(SPACES) + s + rng.choice(SPACES)
        out.append(s)
    return out[:max(count, len(out))]


def fixture_strings(shared):
    """Inputs of the fixture test pairs (multilingual inputs, llama.cpp's vocab tests)."""
    shared = Path(shared)
    out = []
    p = shared / "fixtures/encode_cases/multilingual/inputs.json"
    if p.exists():
        out += [e["text"] for e in json.loads(p.read_text())]
    for inp in sorted((shared / "fixtures/vocab_gguf").glob("*.inp")):
        out += inp.read_text(encoding="utf-8").split("\n__ggml_vocab_test__\n")
    return out
