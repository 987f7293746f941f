"""Small real functions with the cases they give, as the builder's input records (shared fixtures).

Test-authored code, run in the test process to get consistent cases: the builder itself never runs
code, and the sandbox is not what these fixtures test.
"""

from __future__ import annotations

from case2code_hub import schema
from case2code_hub.literals import format_arguments

# Six families of small real functions, ten variants each: simple to nested, some raising.
FAMILIES = [
    ("scale_{k}", "def scale_{k}(x):\n    return x * {k}\n", [(i,) for i in range(-3, 7)]),
    (
        "clip_{k}",
        "def clip_{k}(x, lo=0):\n    if x < lo:\n        return lo\n    if x > {k}:\n        return {k}\n    return x\n",
        [(i,) for i in range(-2, 12, 2)] + [(5, 7), (1, -1), (3, 3)],
    ),
    (
        "count_{k}",
        "def count_{k}(items):\n    n = 0\n    for it in items:\n        if it > {k}:\n            n += 1\n    return n\n",
        [([],), ([1, 2, 3],), ([10, 20],), ([5] * 4,), ([0, 9, 3, 12],), (list(range(15)),)],
    ),
    (
        "pairs_{k}",
        "def pairs_{k}(n):\n    return [(i, [i * {k}] * (i % 3)) for i in range(n)]\n",
        [(i,) for i in range(10)],
    ),
    (
        "div_{k}",
        "def div_{k}(a, b):\n    if b == 0:\n        raise ValueError('division by zero')\n    return a // b + {k}\n",
        [(7, 2), (9, 3), (1, 0), (-8, 3), (100, 7), (5, 0), (0, 5), (64, 8), (3, 9)],
    ),
    (
        "grid_{k}",
        "def grid_{k}(m):\n    total = 0\n    for row in m:\n        for v in row:\n            if v % 2:\n"
        "                total += v\n            elif v > {k}:\n                total -= 1\n"
        "    return {{'total': total, 'rows': len(m), 'shape': [(len(r), {{'w': len(r)}}) for r in m]}}\n",
        [([[1, 2], [3, 4]],), ([],), ([[5]],), ([[20, 21, 22]],), ([[1], [2], [3]],), ([[8, 9], [10]],),
         ([[0, 0, 0]],), ([[11, 13], [15, 100]],), ([[2, 4, 6, 8]],)],
    ),
]


def _run_case(func, args: tuple) -> dict:
    try:
        value = func(*args)
    except Exception as exc:  # the record stores what the sandbox would: type and message
        return {"input": format_arguments(list(args)), "output": f"{type(exc).__name__}: {exc}",
                "outcome": "raised", "writer": "offline"}
    return {"input": format_arguments(list(args)), "output": repr(value), "outcome": "returned", "writer": "offline"}


def make_records(n_variants: int = 10) -> list[dict]:
    records = []
    for name_tpl, code_tpl, inputs in FAMILIES:
        for k in range(1, n_variants + 1):
            name, code = name_tpl.format(k=k), code_tpl.format(k=k)
            namespace: dict = {}
            # Test-authored code, run here to get consistent cases; the builder itself never runs code.
            exec(compile(code, name, "exec"), namespace)
            records.append(
                {
                    "id": schema.function_id(code),
                    "entry_point": name,
                    "code": code,
                    "source": {"corpus": "synthetic", "path": f"{name}.py", "repo": None, "license": "MIT"},
                    "cases": [_run_case(namespace[name], args) for args in inputs],
                    "generator": "offline",
                }
            )
    return records
