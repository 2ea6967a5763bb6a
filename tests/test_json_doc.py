"""docs/json.md shows the guidance schema as `therapy-signals schema guidance` prints it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from therapy_signals import Guidance

PAGE = Path(__file__).resolve().parent.parent / "docs" / "json.md"


def test_the_guidance_schema_on_the_page_is_the_models() -> None:
    text = PAGE.read_text(encoding="utf-8")
    after = text[text.index("### The guidance schema") :]
    shown = json.loads(re.search(r"```json\n(.*?)```", after, flags=re.S).group(1))  # type: ignore[union-attr]
    schema = Guidance.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    assert shown == schema
    assert "PackInfo" in shown["$defs"] and "packs" in shown["$defs"]["RuleBookInfo"]["properties"]
