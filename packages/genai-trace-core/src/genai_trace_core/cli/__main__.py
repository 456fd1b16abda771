"""``python -m genai_trace_core.cli``: the ``genai-trace`` command."""

from __future__ import annotations

import sys

from genai_trace_core.cli import main

sys.exit(main())
