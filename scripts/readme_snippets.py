#!/usr/bin/env python3
"""Keeps README code blocks identical to the examples they come from.

In README.md, a code block preceded by `<!-- snippet: examples/FILE.cpp#NAME -->` must equal the
region of that file between `// [snippet NAME]` and `// [end snippet]` (common indent removed).
The examples are compiled and run by the test suite, so the README cannot show code that does
not build or behave as described.

  scripts/readme_snippets.py          check; exit 1 listing every stale block
  scripts/readme_snippets.py --fix    rewrite the stale blocks in README.md
"""
import pathlib
import re
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<!-- snippet: (?P<file>[^#\s]+)#(?P<name>[\w-]+) -->\n```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


def region(file: str, name: str) -> str:
    text = (ROOT / file).read_text()
    match = re.search(rf"^[ \t]*// \[snippet {re.escape(name)}\]\n(.*?)^[ \t]*// \[end snippet\]", text, re.S | re.M)
    if not match:
        sys.exit(f"{file}: no snippet named '{name}'")
    return textwrap.dedent(match.group(1))


def main() -> int:
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text()
    stale = []

    def replace(m: re.Match) -> str:
        want = region(m["file"], m["name"])
        if m["body"] != want:
            stale.append(f"{m['file']}#{m['name']}")
        return f"<!-- snippet: {m['file']}#{m['name']} -->\n```{m['lang']}\n{want}```"

    fixed = MARKER.sub(replace, readme)
    count = len(MARKER.findall(readme))
    if "--fix" in sys.argv[1:]:
        readme_path.write_text(fixed)
        print(f"README.md: {len(stale)} of {count} snippets rewritten")
        return 0
    if stale:
        print("README.md has stale snippets (run scripts/readme_snippets.py --fix):\n  " + "\n  ".join(stale))
        return 1
    print(f"README.md: all {count} snippets match their examples")
    return 0 if count > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
