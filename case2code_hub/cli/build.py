"""``case2code build``: corpus to dataset folder on embedded defaults."""
