#!/usr/bin/env python3
"""Keeps the code shown in README.md and in the public headers identical to the example
programs it comes from.

The examples (examples/*.cpp) are compiled and run by the test suite (ctest example.<name>), so
the documentation cannot show code that does not build or does not behave as described.

Regions. In an example program, the region NAME is the code between `// [snippet NAME]` and the
matching `// [end snippet]`, its common indent removed. Regions may nest: the marker lines of an
inner region are not part of the outer one.

README.md. A code block preceded by `<!-- snippet: examples/FILE.cpp#NAME -->` must equal that
region. A block preceded by `<!-- output: [VAR=VALUE ...] PROGRAM -->` is what that example program
prints (stdout and stderr) with those variables set; it is checked when the program's path is
given (`--program PROGRAM=PATH`, as ctest does), with durations, ports and the frames of a blocked
thread's stack outside examples/ ignored (they vary between runs and machines).

Headers (include/corio/**/*.hpp). In a header's opening comment (its leading `//` lines), a line
`// snippet: examples/FILE.cpp#NAME` is followed by the example, one `//   <line>` per line of
the region (no blank lines); it must equal the region. Any other block of lines indented as
code (`//` and three spaces or more) that looks like code — a line ending in `;`, `{` or `}`
once a trailing `// comment` is dropped — is an example no program checks, and fails the check:
mark it with a snippet line, or remove it.

  scripts/readme_snippets.py          check; exit 1 naming every stale or unchecked example
  scripts/readme_snippets.py --fix    rewrite stale README blocks and header examples from the
                                      programs (unchecked examples still need a marker by hand)
  ... --program NAME=PATH             also run PATH for the output blocks of NAME
"""
import difflib
import os
import pathlib
import re
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parent.parent
README_MARKER = re.compile(
    r"<!-- snippet: (?P<file>[^#\s]+)#(?P<name>[\w-]+) -->\n```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)
OUTPUT_MARKER = re.compile(
    r"<!-- output: (?P<command>[^>]+?) -->\n```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)
REGION_OPEN = re.compile(r"^[ \t]*// \[snippet (?P<name>[\w-]+)\][ \t]*$")
REGION_CLOSE = re.compile(r"^[ \t]*// \[end snippet\][ \t]*$")
HEADER_MARKER = re.compile(r"^// snippet: (?P<file>examples/[^#\s]+\.cpp)#(?P<name>[\w-]+)[ \t]*$")
CODE_INDENT = "//   "  # how a header's opening comment indents example code
TRAILING_COMMENT = re.compile(r"\s//(\s.*)?$")


class SnippetError(Exception):
    """A reference that cannot be resolved (no such file or region, malformed markers)."""


_regions_cache: dict[str, dict[str, str]] = {}


def regions(file: str) -> dict[str, str]:
    """Every region of an example program: name -> its code (dedented, ending in a newline)."""
    if file in _regions_cache:
        return _regions_cache[file]
    path = ROOT / file
    if not path.is_file():
        raise SnippetError(f"{file}: no such example program")
    found: dict[str, list[str]] = {}
    open_names: list[str] = []
    for number, line in enumerate(path.read_text().splitlines(keepends=True), 1):
        if m := REGION_OPEN.match(line):
            if m["name"] in found:
                raise SnippetError(f"{file}:{number}: a second region named '{m['name']}'")
            found[m["name"]] = []
            open_names.append(m["name"])
        elif REGION_CLOSE.match(line):
            if not open_names:
                raise SnippetError(f"{file}:{number}: '// [end snippet]' without a region open")
            open_names.pop()
        else:
            for name in open_names:
                found[name].append(line)
    if open_names:
        raise SnippetError(f"{file}: region '{open_names[-1]}' has no '// [end snippet]'")
    _regions_cache[file] = {name: textwrap.dedent("".join(lines)) for name, lines in found.items()}
    return _regions_cache[file]


def region(file: str, name: str) -> str:
    try:
        return regions(file)[name]
    except KeyError:
        raise SnippetError(f"{file}: no region named '{name}' (// [snippet {name}] ... // [end snippet])") from None


def diff(have: list[str], want: list[str], have_name: str, want_name: str) -> str:
    lines = difflib.unified_diff(have, want, have_name, want_name, lineterm="", n=1)
    return "\n".join("      " + line for line in lines)


# ---- README.md ----

def check_readme(fix: bool, problems: list[str]) -> int:
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text()
    count = 0

    def replace(m: re.Match) -> str:
        nonlocal count
        count += 1
        ref = f"{m['file']}#{m['name']}"
        try:
            want = region(m["file"], m["name"])
        except SnippetError as e:
            problems.append(f"README.md: snippet {ref}: {e}")
            return m[0]
        if m["body"] != want:
            line = readme.count("\n", 0, m.start()) + 1
            problems.append(f"README.md:{line}: the snippet {ref} differs from that program:\n" +
                            diff(m["body"].splitlines(), want.splitlines(), "README.md", ref))
        return f"<!-- snippet: {ref} -->\n```{m['lang']}\n{want}```"

    fixed = README_MARKER.sub(replace, readme)
    if fix and fixed != readme:
        readme_path.write_text(fixed)
    if count == 0:
        problems.append("README.md: no snippet markers found (the check would prove nothing)")
    return count


# ---- README.md: program output ----

DURATION = re.compile(r"\b\d+(\.\d+)?(e[+-]?\d+)?(ns|us|ms|min|s)\b")
PORT = re.compile(r"(127\.0\.0\.1|\[::1\]):\d+")


def comparable(output: str) -> list[str]:
    """The lines of an output that must stay the same from run to run."""
    lines: list[str] = []
    in_thread_stack = False
    for line in output.splitlines():
        if in_thread_stack and line.startswith("      "):
            if "examples/" not in line:
                continue
        else:
            in_thread_stack = line.endswith("the loop thread is at:")
        lines.append(PORT.sub(r"\1:<port>", DURATION.sub("<duration>", line)))
    return lines


def run_program(command: str, programs: dict[str, str]) -> str | None:
    """The output of `[VAR=VALUE ...] PROGRAM`, or None if PROGRAM's path was not given."""
    *assignments, name = command.split()
    if name not in programs:
        return None
    env = dict(os.environ)
    env.update(a.split("=", 1) for a in assignments)
    done = subprocess.run([programs[name]], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=120)
    if done.returncode != 0:
        raise SnippetError(f"{name} exited with {done.returncode}:\n{done.stdout}")
    return done.stdout


def check_outputs(fix: bool, programs: dict[str, str], problems: list[str]) -> int:
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text()
    count = 0

    def replace(m: re.Match) -> str:
        nonlocal count
        try:
            output = run_program(m["command"], programs)
        except (SnippetError, subprocess.TimeoutExpired) as e:
            problems.append(f"README.md: output of {m['command']}: {e}")
            return m[0]
        if output is None:
            return m[0]
        count += 1
        if comparable(m["body"]) != comparable(output):
            line = readme.count("\n", 0, m.start()) + 1
            problems.append(f"README.md:{line}: the output of {m['command']} has changed:\n" +
                            diff(comparable(m["body"]), comparable(output), "README.md", m["command"]))
            return f"<!-- output: {m['command']} -->\n```{m['lang']}\n{output}```"
        return m[0]

    fixed = OUTPUT_MARKER.sub(replace, readme)
    if fix and fixed != readme:
        readme_path.write_text(fixed)
    return count


# ---- headers ----

def looks_like_code(lines: list[str]) -> bool:
    for line in lines:
        code = TRAILING_COMMENT.sub("", line[2:]).rstrip()
        if code.endswith((";", "{", "}")):
            return True
    return False


def header_lines(code: str) -> list[str]:
    return [CODE_INDENT + line if line.strip() else "//" for line in code.splitlines()]


def check_header(path: pathlib.Path, fix: bool, problems: list[str]) -> int:
    """Checks the examples in one header's opening comment; returns how many are marked."""
    rel = path.relative_to(ROOT).as_posix()
    lines = path.read_text().splitlines(keepends=True)
    opening = 0
    while opening < len(lines) and lines[opening].startswith("//"):
        opening += 1
    out: list[str] = []
    checked = 0
    i = 0
    while i < opening:
        line = lines[i].rstrip("\n")
        marker = HEADER_MARKER.match(line)
        start = i + 1 if marker else i
        end = start
        while end < opening and lines[end].startswith(CODE_INDENT):
            end += 1
        block = [l.rstrip("\n") for l in lines[start:end]]
        if marker:
            checked += 1
            out.append(lines[i])
            ref = f"{marker['file']}#{marker['name']}"
            try:
                want_code = region(marker["file"], marker["name"])
            except SnippetError as e:
                problems.append(f"{rel}:{i + 1}: example {ref}: {e}")
                out.extend(lines[start:end])
                i = end
                continue
            want = header_lines(want_code)
            if "//" in want:
                problems.append(f"{rel}:{i + 1}: example {ref}: the region has a blank line, which a "
                                "header example cannot show (the example would end there)")
            elif [l.rstrip() for l in block] != want:
                what = "is missing (no `//   ` lines follow the marker)" if not block else "differs from that program"
                problems.append(f"{rel}:{i + 1}: the example {ref} {what}:\n" +
                                diff([l[len(CODE_INDENT):] for l in block], want_code.splitlines(),
                                     f"{rel} (example)", ref))
            if fix and "//" not in want:
                out.extend(l + "\n" for l in want)
            else:
                out.extend(lines[start:end])
            i = end
        elif end > start:
            if looks_like_code(block):
                problems.append(f"{rel}:{start + 1}: an example no program checks:\n" +
                                "\n".join("      " + l for l in block) +
                                "\n    mark it with a line `// snippet: examples/FILE.cpp#NAME` naming a region of an "
                                "example program (identical code), or remove it")
            out.extend(lines[start:end])
            i = end
        else:
            out.append(lines[i])
            i += 1
    out.extend(lines[opening:])
    if fix and out != lines:
        path.write_text("".join(out))
    return checked


def main() -> int:
    fix = "--fix" in sys.argv[1:]
    programs = dict(a.split("=", 1) for a in (sys.argv[i + 1] for i, arg in enumerate(sys.argv[:-1]) if arg == "--program"))
    problems: list[str] = []
    readme_count = check_readme(fix, problems)
    output_count = check_outputs(fix, programs, problems)
    header_count = 0
    headers_with_examples = 0
    for path in sorted((ROOT / "include" / "corio").rglob("*.hpp")):
        n = check_header(path, fix, problems)
        header_count += n
        headers_with_examples += n > 0
    if fix:
        _regions_cache.clear()
        remaining: list[str] = []
        check_readme(False, remaining)
        for path in sorted((ROOT / "include" / "corio").rglob("*.hpp")):
            check_header(path, False, remaining)
        fixed = len(problems) - len(remaining)
        print(f"fixed {fixed} stale example(s)" + (f"; {len(remaining)} problem(s) need a hand:" if remaining else ""))
        for p in remaining:
            print("  " + p)
        return 1 if remaining else 0
    if problems:
        print(f"{len(problems)} documentation example(s) out of step with examples/ "
              "(scripts/readme_snippets.py --fix rewrites stale ones from the programs):")
        for p in problems:
            print("  " + p)
        return 1
    print(f"README.md: all {readme_count} snippets match their examples, {output_count} program outputs checked; "
          f"headers: all {header_count} examples in {headers_with_examples} headers match theirs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
