"""Parses a Prometheus text exposition with the official Python client's parser (Debian's
python3-prometheus-client), independently of corio, and prints what it understood as JSON:
  {"family": {"type": "counter", "samples": [["name", {"label": "value"}, 1.0], ...]}, ...}
Usage: prometheus_parse.py FILE. Exits non-zero (with the parser's complaint) on a malformed
exposition.
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    families = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = {
            "type": family.type,
            "help": family.documentation,
            "samples": [[s.name, s.labels, s.value] for s in family.samples],
        }
    print(json.dumps(families))


if __name__ == "__main__":
    main(sys.argv[1])
