"""``case2code execute``: run functions on their inputs in the sandbox (filled in by the sandbox work)."""
