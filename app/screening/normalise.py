"""Text normalisation before the rules look: trivial obfuscation must not change the verdict.

Steps, in order: lone surrogates become U+FFFD; Unicode NFKC (full-width and compatibility
forms fold to ASCII: `＜` → `<`); format characters (zero-width spaces and joiners, soft hyphen,
byte-order mark, bidirectional controls, tag characters) and control characters other than line
breaks and tabs are dropped; look-alike brackets, quotes and Cyrillic/Greek letters map to their
ASCII counterparts; case-folding; runs of spaces and tabs become one space.
"""

import re
import unicodedata

# Bracket, quote and dash look-alikes that NFKC leaves alone.
_PUNCTUATION = {
    "‹": "<",
    "›": ">",
    "«": "<<",
    "»": ">>",
    "〈": "<",
    "〉": ">",
    "⟨": "<",
    "⟩": ">",
    "《": "<<",
    "》": ">>",
    "❮": "<",
    "❯": ">",
    "˂": "<",
    "˃": ">",
    "ᐸ": "<",
    "ᐳ": ">",
    "⋖": "<",
    "⋗": ">",
    "❬": "<",
    "❭": ">",
    "⦑": "<",
    "⦒": ">",
    "【": "[",
    "】": "]",
    "〔": "[",
    "〕": "]",
    "〖": "[",
    "〗": "]",
    "〚": "[",
    "〛": "]",
    "⟦": "[",
    "⟧": "]",
    "❲": "[",
    "❳": "]",
    "⦃": "{",
    "⦄": "}",
    "❴": "{",
    "❵": "}",
    "“": '"',
    "”": '"',
    "„": '"',
    "‟": '"',
    "″": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "∣": "|",
    "ǀ": "|",
    "│": "|",
    "｜": "|",
}

# Letters that look like Latin ones (Cyrillic, Greek), after case-folding.
_LETTERS = {
    "а": "a",
    "в": "b",
    "с": "c",
    "ԁ": "d",
    "е": "e",
    "ё": "e",
    "һ": "h",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "ѕ": "s",
    "т": "t",
    "у": "y",
    "х": "x",
    "ԛ": "q",
    "ԝ": "w",
    "α": "a",
    "β": "b",
    "ε": "e",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ı": "i",
}

_TABLE = str.maketrans({**_PUNCTUATION, **_LETTERS})
_KEEP_CONTROLS = {"\n", "\t"}
_SURROGATES = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_COMPACT_DROP = re.compile(r"[\s\-_.*~`'\",;:!?()/\\+=^]+")


def _visible(char: str) -> str:
    """'' for a format or control character (line breaks and tabs kept), else the character."""
    if char in _KEEP_CONTROLS:
        return char
    if char == "\r":
        return "\n"
    category = unicodedata.category(char)
    if category == "Cf" or category == "Cc":
        return ""
    return char


def normalise(text: str) -> str:
    """The text the rules read (see the module docstring). Never raises on a `str`."""
    text = _SURROGATES.sub("\ufffd", text)
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_visible(char) for char in text)
    text = text.casefold().translate(_TABLE)
    # Case-folding and the tables may produce new compatibility forms; fold once more.
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", text)


def compact(normalised: str) -> str:
    """The normalised text without spaces and light punctuation: `i.g n-o_r e` → `ignore`.
    Only a few long phrases are looked for in it (a short word would match across words)."""
    return _COMPACT_DROP.sub("", normalised)
