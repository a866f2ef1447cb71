"""The built-in text the quickstart and the real-model parity test score."""

BUILTIN_TEXT = [
    "The quick brown fox jumps over the lazy dog. This sentence contains every letter of the English "
    "alphabet, which is why typists and type designers have used it for more than a century to show "
    "how a font looks and to practise on a keyboard.",
    "Fine-tuning adapts a pretrained language model to a narrower task: a small set of examples, a few "
    "hundred optimizer steps, and the model learns to follow a new format while keeping what it knew.",
]
