"""A small, varied corpus of real functions for end-to-end tests, written to a folder on demand."""

from __future__ import annotations

import hashlib
from pathlib import Path

TEXT_UTILS = '''
import re
from collections import Counter

VOWELS = "aeiou"
_WORD = re.compile(r"[A-Za-z]+")


def count_vowels(text: str) -> int:
    """Count the vowels in text."""
    return sum(1 for ch in text.lower() if ch in VOWELS)


def word_lengths(sentence: str) -> list:
    return [len(w) for w in _WORD.findall(sentence)]


def most_common_char(s: str):
    if not s:
        return None
    counts = Counter(s)
    return counts.most_common(1)[0][0]


def capitalize_words(text):
    return " ".join(word[:1].upper() + word[1:] for word in text.split(" "))


def is_palindrome(s: str) -> bool:
    cleaned = [c.lower() for c in s if c.isalnum()]
    return cleaned == cleaned[::-1]


def run_length_encode(s: str) -> str:
    if not s:
        return ""
    out = []
    prev, count = s[0], 1
    for ch in s[1:]:
        if ch == prev:
            count += 1
        else:
            out.append(f"{count}{prev}")
            prev, count = ch, 1
    out.append(f"{count}{prev}")
    return "".join(out)


def caesar(text: str, shift: int) -> str:
    result = []
    for ch in text:
        if ch.isalpha():
            base = ord("a") if ch.islower() else ord("A")
            result.append(chr((ord(ch) - base + shift) % 26 + base))
        else:
            result.append(ch)
    return "".join(result)


def snake_to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
'''

NUMBERS = '''
import math


def gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return abs(a)


def lcm(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return abs(a * b) // gcd(a, b)


def is_prime(n: int) -> bool:
    if n < 2:
        return False
    for k in range(2, int(math.isqrt(n)) + 1):
        if n % k == 0:
            return False
    return True


def digit_sum(n: int) -> int:
    n = abs(n)
    total = 0
    while n:
        total += n % 10
        n //= 10
    return total


def collatz_steps(n: int) -> int:
    if n < 1:
        raise ValueError("n must be positive")
    steps = 0
    while n != 1 and steps < 1000:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return max(lo, min(hi, x))


def fizzbuzz(n: int) -> str:
    if n % 15 == 0:
        return "FizzBuzz"
    if n % 3 == 0:
        return "Fizz"
    if n % 5 == 0:
        return "Buzz"
    return str(n)


def to_binary(n: int) -> str:
    if n == 0:
        return "0"
    sign = "-" if n < 0 else ""
    n = abs(n)
    bits = []
    while n:
        bits.append(str(n & 1))
        n >>= 1
    return sign + "".join(reversed(bits))
'''

LISTS = '''
def running_sum(values: list) -> list:
    total = 0
    out = []
    for v in values:
        total += v
        out.append(total)
    return out


def chunk(items: list, size: int) -> list:
    if size <= 0:
        raise ValueError("size must be positive")
    return [items[i:i + size] for i in range(0, len(items), size)]


def flatten(nested: list) -> list:
    flat = []
    for item in nested:
        if isinstance(item, list):
            flat.extend(flatten(item))
        else:
            flat.append(item)
    return flat


def second_largest(numbers: list):
    unique = sorted(set(numbers))
    if len(unique) < 2:
        return None
    return unique[-2]


def rotate(items: list, k: int) -> list:
    if not items:
        return []
    k %= len(items)
    return items[-k:] + items[:-k]


def pairwise_diff(values: list) -> list:
    return [b - a for a, b in zip(values, values[1:])]


def invert_dict(d: dict) -> dict:
    return {v: k for k, v in d.items()}


def merge_counts(a: dict, b: dict) -> dict:
    merged = dict(a)
    for key, value in b.items():
        merged[key] = merged.get(key, 0) + value
    return merged
'''

HOSTILE_AND_BAD = '''
import os
import time


def reads_file(path):
    with open(path) as handle:
        return handle.read()


def sleeper(n):
    time.sleep(n)
    return n


def uses_unknown(x):
    return undefined_helper(x) + 1


def gen(n):
    yield n


def no_return(x):
    x + 1
'''


def write_corpus(root: Path) -> Path:
    """Write the sample corpus (plus a non-UTF-8 and an unparsable file) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "text_utils.py").write_text(TEXT_UTILS)
    (root / "numbers.py").write_text(NUMBERS)
    (root / "pkg").mkdir(exist_ok=True)
    (root / "pkg" / "lists.py").write_text(LISTS)
    (root / "pkg" / "bad.py").write_text(HOSTILE_AND_BAD)
    (root / "latin1.py").write_bytes("def f(x):\n    return 'caf\xe9' + x\n".encode("latin-1"))
    (root / "broken.py").write_text("def broken(:\n    return 1\n")
    return root


def digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, by relative path: two folders with equal digests are
    byte-identical."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def numbered_functions(n: int, *, offset: int = 0) -> list:
    """``n`` distinct small functions ``f<i>(xs, k, name)`` as harvested records, for the writers."""
    from case2code_hub.schema import Function, Source, function_id

    out = []
    for i in range(offset, offset + n):
        code = f"def f{i}(xs: list, k: int, name: str = 'a'):\n    return [x * k + {i} for x in xs], name\n"
        out.append(Function(id=function_id(code), entry_point=f"f{i}", code=code, source=Source("test", f"f{i}.py")))
    return out
