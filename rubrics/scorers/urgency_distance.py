#!/usr/bin/env python3
"""A `command` scorer for bedrock-eval: partial credit for an urgency that is one level off.

bedrock-eval runs this once per reply (no shell), with one JSON document on stdin:

    {"criterion": "urgency_distance",
     "reply": "<the model's reply>",
     "example": {"id": "...", "input": "...", "reference": "...", "fields": {"urgency": "high", ...}},
     "params": {"levels": ["low", "medium", "high"], "field": "urgency"}}

and reads one JSON object from stdout: {"score": <0 to 1>, "reason": "<why>"}. A crash, a non-zero exit, a run past
the criterion's `timeout_ms` or anything else on stdout is recorded as a criterion error, never as a 0 — so this
program scores 0 itself when the reply is wrong, and exits non-zero only when its own input is broken.

Score: 1 for the expected level, 0.5 for a neighbouring level, 0 otherwise (or when the reply has no readable
urgency). Standard library only.
"""

import json
import re
import sys


def reply_json(reply):
    """The reply's JSON object: the whole reply, or the first ```json block, as bedrock-eval's `json` kinds read it."""
    candidates = [reply.strip()] + re.findall(r"```[^\n]*\n(.*?)```", reply, flags=re.DOTALL)
    for text in candidates:
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def main():
    document = json.load(sys.stdin)
    params = document.get("params") or {}
    levels = [level.lower() for level in params.get("levels", ["low", "medium", "high"])]
    field = params.get("field", "urgency")
    expected = str(document["example"]["fields"][field]).strip().lower()
    if expected not in levels:
        sys.exit(f"example {document['example']['id']}: expected {field} {expected!r} is not one of {levels}")
    value = (reply_json(document["reply"]) or {}).get(field)
    predicted = str(value).strip().lower() if value is not None else None
    if predicted not in levels:
        result = {"score": 0.0, "reason": f"no {field} among {levels} in the reply"}
    else:
        distance = abs(levels.index(predicted) - levels.index(expected))
        score = {0: 1.0, 1: 0.5}.get(distance, 0.0)
        result = {"score": score, "reason": f"{predicted} for {expected}: {distance} level(s) off"}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
