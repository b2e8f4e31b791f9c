"""bench/compare/report.py — the summary, Markdown table and SVG chart of bench/compare/run.

summarise(data, rows) turns the per-round measurements into medians and per-round ratios
(medianed); markdown(results) and svg(results) present them. Hand-written SVG: no plotting
library needed.
"""
import html
import math
import statistics

SERVER_GOAL_CPU = 0.83     # server, 1 core: CPU per request <= 0.83x nginx's
SERVER_GOAL_P99 = 1.0      # ... with p99 <= nginx's
SERVER_GOAL_SCALE = 1.8    # 2 cores: >= 1.8x the 1-core rate
CLIENT_GOAL_RATE = 1.0     # client: >= the bare Beast loop's rate
CLIENT_GOAL_CPU = 0.8      # client: CPU per request <= 0.8x wrk's
TASK_GOAL_SPAWN_NS = 20.0  # spawn+await <= 20 ns
TASK_GOAL_MEMORY_B = 256.0  # <= 256 B per sleeping task, frame included

TASK_ROWS = [
    ("spawn_await", "spawn+await, batches of 1k (ns/task)"),
    ("spawn_alive", "spawn N alive at once, fresh memory (ns/task)"),
    ("await", "plain await of a ready child (ns)"),
    ("wait_for", "added cost of a 10 s timeout on a call that completes (ns)"),
    ("memory", "memory per sleeping task, 100k sleepers (bytes RSS, frame included)"),
]


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _ok(run):
    return run is not None and "error" not in run and not run.get("na")


def _errors(runs):
    return [r["error"] for r in runs if r and "error" in r]


def _row_summary(runs, fields):
    """Medians of `fields` over the rounds that succeeded; failures counted and the first kept."""
    good = [r for r in runs if _ok(r)]
    s = {f: _median([r.get(f) for r in good]) for f in fields}
    s["rounds_ok"] = len(good)
    s["rounds"] = len(runs)
    errors = _errors(runs)
    if errors:
        s["error"] = errors[0]
    return s


def _ratio_per_round(a_runs, b_runs, field):
    """median over rounds of a[field] / b[field], the rounds where both succeeded."""
    ratios = []
    for a, b in zip(a_runs, b_runs):
        if _ok(a) and _ok(b) and a.get(field) and b.get(field):
            ratios.append(a[field] / b[field])
    return _median(ratios)


def summarise(data, rows):
    out = {"server": {}, "client": {}, "tasks": {}}
    for cores, by_key in data["server"].items():
        ref = by_key.get("nginx", [])
        for key, runs in by_key.items():
            s = _row_summary(runs, ("req_s", "p50_ms", "p99_ms", "cpu_us", "other_load"))
            s["cpu_vs_nginx"] = _ratio_per_round(runs, ref, "cpu_us")
            s["p99_vs_nginx"] = _ratio_per_round(runs, ref, "p99_ms")
            s["rate_vs_nginx"] = _ratio_per_round(runs, ref, "req_s")
            if cores == "2":
                s["rate_vs_1core"] = _ratio_per_round(runs, data["server"].get("1", {}).get(key, []), "req_s")
            out["server"].setdefault(cores, {})[key] = s
    wrk, beast = data["client"].get("wrk", []), data["client"].get("beast", [])
    for key, runs in data["client"].items():
        s = _row_summary(runs, ("req_s", "p50_ms", "p99_ms", "cpu_us"))
        s["rate_vs_beast"] = _ratio_per_round(runs, beast, "req_s")
        s["cpu_vs_wrk"] = _ratio_per_round(runs, wrk, "cpu_us")
        s["rate_vs_wrk"] = _ratio_per_round(runs, wrk, "req_s")
        out["client"][key] = s
    for test, by_key in data["tasks"].items():
        for key, runs in by_key.items():
            s = _row_summary(runs, ("value", "n"))
            s["na"] = bool(runs) and all(r.get("na") for r in runs)
            out["tasks"].setdefault(test, {})[key] = s
    return out


# ---------------------------------------------------------------------------------------------
# Formatting


def _num(x, digits=None):
    if x is None:
        return "—"
    if digits is None:
        digits = 0 if abs(x) >= 100 else (1 if abs(x) >= 10 else 2)
    return f"{x:,.{digits}f}"


def _ratio(x):
    return "—" if x is None else f"{x:.2f}×"


def _goal(x, limit, at_most):
    if x is None:
        return "—"
    met = x <= limit if at_most else x >= limit
    return "met" if met else "**missed**"


def _cell_skip(row, s):
    """The text for a row that has no figure: why."""
    if row.get("skip"):
        return "skipped: " + row["skip"]
    if s is None:
        return "not run"
    if s.get("error"):
        return f"skipped ({s['rounds'] - s['rounds_ok']}/{s['rounds']} rounds failed): " + s["error"][:240]
    return "—"


def _escape(text):
    return text.replace("|", "\\|").replace("\n", " ")


def _failures_note(label, s):
    if s and s.get("error") and s.get("rounds_ok"):
        return f"{label}: {s['rounds'] - s['rounds_ok']} of {s['rounds']} rounds failed: {s['error'][:240]}"
    return None


def _row_label(row):
    return f"**{row['label']}**" if row["corio"] else row["label"]


def _measured(row, s, what, prefix, empty_cells, add, notes):
    """False after adding the row that says why there is no figure (prefix, then the reason and
    empty_cells empty cells); True if the row has figures, after noting its failed rounds."""
    if s is None or not s.get("rounds_ok"):
        add(f"{prefix} {_escape(_cell_skip(row, s))} |" + " |" * empty_cells)
        return False
    note = _failures_note(what, s)
    if note:
        notes.append(note)
    return True


def markdown(results):
    meta, summary, rows = results["meta"], results["summary"], results["rows"]
    lines = []
    add = lines.append

    def version(name):
        return meta.get(name) or "(not installed)"

    add(f"## corio beside its peers — {meta['date']}")
    add("")
    add(f"`bench/compare/run` on {meta['cpus']} CPUs ({meta['cpu']}), kernel {meta['kernel']}, corio "
        f"{meta['corio_commit']}, {meta['g++']}; {meta['rounds']} interleaved round(s), {meta['seconds']} s per "
        "load run. Figures are medians across rounds; every ratio is computed within a round, then medianed. "
        f"Peers (Debian packages): nginx {version('nginx')}, wrk {version('wrk')}, Boost {version('boost')}, "
        f"Go {version('go')}, {meta.get('python3', 'Python')} with aiohttp {version('aiohttp')} and uvloop "
        f"{version('uvloop')}.")
    add("")

    corio_keys = [r for r in rows.get("server", []) + rows.get("client", []) + rows.get("tasks", []) if r["corio"]]
    backends = []
    for r in corio_keys:
        if (r["key"], r["label"]) not in backends:
            backends.append((r["key"], r["label"]))

    # ---- goals ----
    add("### Goals")
    add("")
    add("| goal | " + " | ".join(label for _, label in backends) + " | reference, same run |")
    add("|---|" + "---|" * len(backends) + "---|")
    srv1 = summary["server"].get("1", {})
    srv2 = summary["server"].get("2", {})
    cli = summary["client"]
    tasks = summary["tasks"]

    def goal_row(title, source, field, limit, at_most, reference, fmt=_ratio):
        """source(key) -> that row's summary (or None); field: the figure the goal is about."""
        cells = []
        for key, _ in backends:
            s = source(key)
            x = s.get(field) if s else None
            if x is not None:
                cells.append(f"{fmt(x)} ({_goal(x, limit, at_most)})")
            else:
                cells.append("skipped" if s is None or not s.get("rounds_ok") else "—")
        add(f"| {title} | " + " | ".join(cells) + f" | {reference} |")

    if srv1:
        nginx1 = srv1.get("nginx", {})
        goal_row(f"server, 1 core: CPU per request ≤ {SERVER_GOAL_CPU}× nginx's", srv1.get, "cpu_vs_nginx",
                 SERVER_GOAL_CPU, True, f"nginx {_num(nginx1.get('cpu_us'))} µs/req")
        goal_row("server, 1 core: p99 ≤ nginx's", srv1.get, "p99_vs_nginx",
                 SERVER_GOAL_P99, True, f"nginx p99 {_num(nginx1.get('p99_ms'), 2)} ms")
    if srv2:
        goal_row(f"server, 2 cores: req/s ≥ {SERVER_GOAL_SCALE}× its 1-core rate", srv2.get, "rate_vs_1core",
                 SERVER_GOAL_SCALE, False,
                 f"nginx {_ratio(srv2.get('nginx', {}).get('rate_vs_1core'))} (wrk holds one of the CPUs)")
    if cli:
        goal_row("client: req/s ≥ the bare Beast loop's", cli.get, "rate_vs_beast",
                 CLIENT_GOAL_RATE, False, f"Beast {_num(cli.get('beast', {}).get('req_s'))} req/s")
        goal_row(f"client: CPU per request ≤ {CLIENT_GOAL_CPU}× wrk's", cli.get, "cpu_vs_wrk",
                 CLIENT_GOAL_CPU, True, f"wrk {_num(cli.get('wrk', {}).get('cpu_us'))} µs/req")
    if tasks:
        spawn, memory = tasks.get("spawn_await", {}), tasks.get("memory", {})
        goal_row(f"tasks: spawn+await ≤ {TASK_GOAL_SPAWN_NS:.0f} ns", spawn.get, "value", TASK_GOAL_SPAWN_NS, True,
                 f"Asio {_num(spawn.get('asio', {}).get('value'))} ns, Go {_num(spawn.get('go', {}).get('value'))} ns",
                 fmt=lambda x: f"{x:.1f} ns")
        goal_row(f"tasks: ≤ {TASK_GOAL_MEMORY_B:.0f} B per sleeping task (total)", memory.get, "value",
                 TASK_GOAL_MEMORY_B, True,
                 f"Asio {_num(memory.get('asio', {}).get('value'))} B, Go {_num(memory.get('go', {}).get('value'))} B",
                 fmt=lambda x: f"{x:.0f} B")
    add("")

    notes = list(results["notes"])

    # ---- server ----
    if rows.get("server"):
        add(f"### HTTP server: `wrk -t1 -c64 -d{meta['seconds']}s --latency` on CPU 1, GET / → 13-byte body, "
            "keep-alive, no access log")
        add("")
        add("1 core: the server pinned to CPU 0 (nginx 1 worker, one loop/thread/process). 2 cores: unpinned, "
            "2 workers/threads/processes (Go: GOMAXPROCS=2), wrk still on CPU 1. CPU per request: the server's "
            "processes' user+kernel time over the run / requests completed.")
        add("")
        add("| server | cores | req/s | p50 ms | p99 ms | **CPU µs/req** | CPU/req vs nginx | p99 vs nginx "
            "| req/s vs own 1 core |")
        add("|---|---|---|---|---|---|---|---|---|")
        for cores in ("1", "2"):
            for row in rows["server"]:
                s = summary["server"].get(cores, {}).get(row["key"])
                label = _row_label(row)
                if not _measured(row, s, f"server {row['label']}, {cores} core(s)", f"| {label} | {cores} |", 6,
                                 add, notes):
                    continue
                add(f"| {label} | {cores} | {_num(s['req_s'])} | {_num(s['p50_ms'], 2)} | {_num(s['p99_ms'], 2)} | "
                    f"**{_num(s['cpu_us'], 1)}** | {_ratio(s['cpu_vs_nginx'])} | {_ratio(s['p99_vs_nginx'])} | "
                    f"{_ratio(s.get('rate_vs_1core')) if cores == '2' else ''} |")
        add("")

    # ---- client ----
    if rows.get("client"):
        add(f"### HTTP client: 64 requests in flight for {meta['seconds']} s against nginx (1 worker, CPU 1), "
            "the client on CPU 0")
        add("")
        add("CPU per request: the client's own user+kernel time over its measured part (after a warm-up) / its "
            "requests; wrk's over its whole run. Latency: each request as the client saw it.")
        add("")
        add("| client | req/s | p50 ms | p99 ms | **CPU µs/req** | req/s vs Beast | CPU/req vs wrk |")
        add("|---|---|---|---|---|---|---|")
        for row in rows["client"]:
            s = summary["client"].get(row["key"])
            label = _row_label(row)
            if not _measured(row, s, f"client {row['label']}", f"| {label} |", 5, add, notes):
                continue
            add(f"| {label} | {_num(s['req_s'])} | {_num(s['p50_ms'], 2)} | {_num(s['p99_ms'], 2)} | "
                f"**{_num(s['cpu_us'], 1)}** | {_ratio(s['rate_vs_beast'])} | {_ratio(s['cpu_vs_wrk'])} |")
        add("")

    # ---- tasks ----
    if rows.get("tasks"):
        add("### Tasks: one process per measurement, pinned to CPU 0, CPU time")
        add("")
        add("| workload | " + " | ".join(_row_label(r) for r in rows["tasks"]) + " |")
        add("|---|" + "---|" * len(rows["tasks"]))
        counts = set()
        task_failures = {}  # row label -> its distinct errors, in order
        for test, title in TASK_ROWS:
            cells = []
            for row in rows["tasks"]:
                s = tasks.get(test, {}).get(row["key"])
                if row.get("skip"):
                    cells.append("skipped")
                elif s is None:
                    cells.append("not run")
                elif s.get("na"):
                    cells.append("—")
                elif not s.get("rounds_ok"):
                    cells.append("skipped")
                    errors = task_failures.setdefault(row["label"], [])
                    if s.get("error", "")[:240] not in errors:
                        errors.append(s.get("error", "")[:240])
                else:
                    prefix = "+" if test == "wait_for" else ""
                    cells.append(prefix + _num(s["value"], 1 if s["value"] < 100 else 0))
                    n = _failures_note(f"tasks {test} {row['label']}", s)
                    if n:
                        notes.append(n)
                    if test in ("spawn_await", "spawn_alive") and s.get("n"):
                        counts.add((row["label"], int(s["n"])))
            add(f"| {title} | " + " | ".join(cells) + " |")
        add("")
        for label, errors in task_failures.items():
            notes.append(f"tasks {label}: skipped: " + "; ".join(errors))
        by_n = {}
        for label, n in counts:
            by_n.setdefault(n, []).append(label)
        if len(by_n) > 1:
            notes.append("spawn tests ran " + "; ".join(
                f"{n:,} tasks for {', '.join(sorted(labels))}" for n, labels in sorted(by_n.items(), reverse=True))
                + " (Python's are kept short: its per-task cost grows somewhat with the count).")
        notes.append("Asio has no join handle: its spawn rows wait for a batch with a counter the completion "
                     "handlers decrement (use_promise, one handle per task, costs more); Go waits on a "
                     "sync.WaitGroup. Go has no awaitable call, hence no await/timeout figures.")

    if any(r["corio"] for sec in rows.values() for r in sec):
        notes.append("corio's rows run once with CORIO_BACKEND=epoll and once with CORIO_BACKEND=io_uring; a corio "
                     "that does not know the variable uses its default loop for both.")
    if meta.get("other_load_median") is not None and not any(n.startswith("other programs") for n in notes):
        notes.append(f"other programs' CPU use during the HTTP runs: median {meta['other_load_median']:.0%} "
                     f"of the machine, at most {meta['other_load_max']:.0%}.")
    add("### Notes")
    add("")
    seen = set()
    for n in notes:
        if n not in seen:
            seen.add(n)
            add(f"- {_escape(n)}")
    add("")
    add(f"Total time {meta['total_seconds'] // 60} min {meta['total_seconds'] % 60} s. The chart: compare.svg; "
        "every measurement: compare.json.")
    add("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The chart

CORIO = "#e8590c"
REFERENCE = "#343a40"
PEER = "#adb5bd"
WIDTH = 900
LABEL_W = 250
BAR_W = 500
ROW_H = 22


def _panel(title, subtitle, bars, y, log_scale=False, goal=None):
    """bars: [(label, value or None, kind ('corio'|'reference'|'peer'), note)]; goal: (value, text) drawn
    as a dashed orange line, or None. Returns (svg, height)."""
    parts = []
    e = html.escape
    parts.append(f'<text x="12" y="{y + 18}" class="title">{e(title)}</text>')
    parts.append(f'<text x="12" y="{y + 34}" class="sub">{e(subtitle)}</text>')
    y0 = y + 46
    values = [v for _, v, _, _ in bars if v is not None and v > 0]
    if goal and goal[0] and values:
        values.append(goal[0])
    if not values:
        parts.append(f'<text x="{LABEL_W}" y="{y0 + 14}" class="skip">no figures</text>')
        return "\n".join(parts), 46 + ROW_H + 10
    top = max(values)
    if log_scale:
        lo = 10 ** math.floor(math.log10(min(values)))
        hi = 10 ** math.ceil(math.log10(top))

        def width(v):
            return BAR_W * (math.log10(v) - math.log10(lo)) / max(1e-9, math.log10(hi) - math.log10(lo)) + 2
    else:
        def width(v):
            return BAR_W * v / top

    ref = next((v for _, v, k, _ in bars if k == "reference" and v), None)
    for i, (label, v, kind, note) in enumerate(bars):
        ry = y0 + i * ROW_H
        weight = ' font-weight="bold"' if kind == "corio" else ""
        parts.append(f'<text x="{LABEL_W - 8}" y="{ry + 15}" text-anchor="end" class="label"{weight}>{e(label)}</text>')
        if v is None or v <= 0:
            parts.append(f'<text x="{LABEL_W + 4}" y="{ry + 15}" class="skip">{e(note or "skipped")}</text>')
            continue
        colour = {"corio": CORIO, "reference": REFERENCE}.get(kind, PEER)
        w = max(1.0, width(v))
        parts.append(f'<rect x="{LABEL_W}" y="{ry + 3}" width="{w:.1f}" height="{ROW_H - 6}" fill="{colour}" rx="2"/>')
        text = note or _num(v)
        parts.append(f'<text x="{LABEL_W + w + 6:.1f}" y="{ry + 15}" class="value"{weight}>{e(text)}</text>')
    bottom = y0 + len(bars) * ROW_H
    if ref:
        rx = LABEL_W + width(ref)
        parts.append(f'<line x1="{rx:.1f}" y1="{y0}" x2="{rx:.1f}" y2="{bottom}" '
                     f'stroke="{REFERENCE}" stroke-dasharray="4 3" stroke-width="1"/>')
    if goal and goal[0]:
        gx = LABEL_W + width(goal[0])
        parts.append(f'<line x1="{gx:.1f}" y1="{y0}" x2="{gx:.1f}" y2="{bottom + 4}" '
                     f'stroke="{CORIO}" stroke-dasharray="2 2" stroke-width="1.5"/>')
        parts.append(f'<text x="{gx:.1f}" y="{bottom + 14}" text-anchor="middle" class="goal">{e(goal[1])}</text>')
        return "\n".join(parts), 46 + len(bars) * ROW_H + 26
    return "\n".join(parts), 46 + len(bars) * ROW_H + 14


def svg(results):
    summary, rows, meta = results["summary"], results["rows"], results["meta"]
    panels = []

    def kind(row):
        return "corio" if row["corio"] else ("reference" if row["reference"] else "peer")

    def bars_for(section_rows, lookup, field, fmt, reverse):
        measured, missing = [], []
        for row in section_rows:
            s = lookup(row["key"])
            v = s.get(field) if s and s.get("rounds_ok") else None
            if v is None:
                missing.append((row["label"], None, kind(row), "skipped" if row.get("skip") or s is None or s.get("error")
                                else "—"))
            else:
                measured.append((row["label"], v, kind(row), fmt(v)))
        measured.sort(key=lambda b: b[1], reverse=reverse)
        return measured + missing

    for cores in ("1", "2"):
        if rows.get("server") and summary["server"].get(cores):
            bars = bars_for(rows["server"], lambda k: summary["server"][cores].get(k), "cpu_us",
                            lambda v: f"{v:.1f} µs", False)
            nginx = summary["server"][cores].get("nginx", {}).get("cpu_us")
            goal = (nginx * SERVER_GOAL_CPU, f"goal: {SERVER_GOAL_CPU}× nginx") if nginx and cores == "1" else None
            panels.append((f"HTTP server, {cores} core{'s' if cores == '2' else ''}: CPU per request "
                           "(shorter is better)",
                           "server's CPU time (user + kernel) / requests; wrk -t1 -c64 on CPU 1; dashed: nginx",
                           bars, False, goal))
    if rows.get("client") and summary["client"]:
        bars = bars_for(rows["client"], lambda k: summary["client"].get(k), "req_s",
                        lambda v: f"{v:,.0f} req/s", True)
        panels.append(("HTTP client vs nginx, 64 in flight: requests per second (longer is better)",
                       "client pinned to CPU 0, nginx to CPU 1; dashed: wrk", bars, False, None))
    if rows.get("tasks") and summary["tasks"]:
        t = summary["tasks"]
        if t.get("spawn_await"):
            bars = bars_for(rows["tasks"], lambda k: t["spawn_await"].get(k), "value", lambda v: f"{v:,.1f} ns", False)
            panels.append(("Tasks: spawn + await, ns per task (shorter is better; log scale)",
                           "batches of 1,000 trivial tasks, single thread", bars, True,
                           (TASK_GOAL_SPAWN_NS, f"goal: {TASK_GOAL_SPAWN_NS:.0f} ns")))
        if t.get("memory"):
            bars = bars_for(rows["tasks"], lambda k: t["memory"].get(k), "value", lambda v: f"{v:,.0f} B", False)
            panels.append(("Tasks: memory per sleeping task, bytes (shorter is better)",
                           "resident memory growth / 100,000 sleepers, frame included", bars, False,
                           (TASK_GOAL_MEMORY_B, f"goal: {TASK_GOAL_MEMORY_B:.0f} B")))

    body, y = [], 56
    for title, subtitle, bars, log_scale, goal in panels:
        part, h = _panel(title, subtitle, bars, y, log_scale, goal)
        body.append(part)
        y += h
    height = y + 24
    header = (f'<text x="12" y="24" class="head">corio beside its peers — {html.escape(meta["date"])}</text>'
              f'<text x="12" y="42" class="sub">{html.escape(str(meta["cpus"]))} CPUs, kernel '
              f'{html.escape(meta["kernel"])}, corio {html.escape(meta["corio_commit"])}; medians of '
              f'{meta["rounds"]} interleaved round(s). corio in orange, the reference (nginx, wrk) in black, goals dotted.</text>')
    legend = (f'<text x="12" y="{height - 8}" class="sub">generated by bench/compare/run '
              f'(compare.md has the figures, compare.json every round)</text>')
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">',
        "<style>text{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;fill:#212529}"
        ".head{font-size:16px;font-weight:bold}.title{font-size:13px;font-weight:bold}"
        ".sub{font-size:11px;fill:#6c757d}.label{font-size:12px}.value{font-size:11px}"
        ".skip{font-size:11px;fill:#868e96;font-style:italic}.goal{font-size:10px;fill:#e8590c}</style>",
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        header, *body, legend, "</svg>", ""])
