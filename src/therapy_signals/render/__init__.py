"""Rendering: guidance into words (Jinja2 layouts and rule templates, per locale) and into cards.

``Renderer`` turns a :class:`~therapy_signals.Guidance` into text, Markdown or HTML in one
locale; templates run in a bounded sandbox (``_sandbox``, decision 0012). ``cards`` gives the
CDS Hooks cards of a guidance. Nothing here evaluates a rule: the engine hands over guidance,
and this package only words it.
"""

from __future__ import annotations

from ._renderer import Renderer, Strings, check_locales, default_renderer, layout_data, translation_gaps

__all__ = ["Renderer", "Strings", "check_locales", "default_renderer", "layout_data", "translation_gaps"]
