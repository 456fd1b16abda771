"""tests/stack: helpers live in stack_support.py (importable by name; conftest modules are not)."""
