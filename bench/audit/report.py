# SPDX-License-Identifier: MIT
"""The RESULTS.md section of bench/audit (loaded by bench/run-all with runpy: no bytecode)."""


def _s(v):
    return "n/a" if v is None else f"{v:.2f} s"


def _mib(kib):
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _gc_cell(checks):
    if not checks:
        return "no check"
    return "<br>".join(f"`{c['id']}` **{c['status']}**" if c["status"] == "fail"
                       else f"`{c['id']}` {c['status']}" for c in checks)


def _ly_cell(row):
    if not row["lynis_tests"]:
        return "no test"
    if not row["lynis"]:
        skipped = row.get("lynis_skipped", [])
        ran = [t for t in row["lynis_tests"] if t not in skipped]
        return "; ".join(([f"ran {', '.join(ran)}: nothing reported"] if ran else [])
                         + ([f"skipped {', '.join(skipped)}"] if skipped else []))
    return "<br>".join(f"{x['kind']} {x['id']}: {_cell(x['text'])}" for x in row["lynis"])


def audit_report(au, rows, sections, findings):
    """Goals row, section and findings of bench/audit."""
    g, ly = au["groundctl"], au["lynis"]
    gt, lt = g["time"], ly["time"]
    ratio = (lt["median_s"] / gt["median_s"]) if gt.get("median_s") else None
    rows.append((f"`groundctl audit` run time (median of {len(gt['runs_s'])}) and peak RSS",
                 f"{_s(gt['median_s'])}, {_mib(g.get('own_peak_rss_kib'))} itself "
                 f"({_mib(g['peak_rss_kib'])} with children)",
                 f"Lynis {ly['version']} `audit system --quick`: {_s(lt['median_s'])} "
                 f"(median of {len(lt['runs_s'])}), {_mib(ly['peak_rss_kib'])}",
                 "none set (comparison)",
                 "n/a" + (f" (Lynis takes {ratio:.0f}× as long)" if ratio else "")))
    both = [r for r in au["overlap"]
            if any(c["status"] == "fail" for c in r["groundctl"]) and r["lynis"]]
    only_gc = [r for r in au["overlap"]
               if any(c["status"] == "fail" for c in r["groundctl"]) and not r["lynis"]]
    only_ly = [r for r in au["overlap"]
               if r["lynis"] and not any(c["status"] == "fail" for c in r["groundctl"])]
    m = au.get("machine", {})
    lines = [
        "## Hardening audit: `groundctl audit` vs Lynis (`bench/audit`)", "",
        "Both audit this machine as it is, read-only, one after the other: "
        f"kernel {m.get('kernel', '?')}, PID 1 `{m.get('pid1', '?')}`, virtualisation "
        f"`{m.get('virt', '?')}`. This is a build container, not a provisioned server: no "
        "systemd, no sshd or PostgreSQL running, ufw installed but off, so both tools find a lot; "
        "the point is what each finds and what it costs. groundctl: `groundctl audit --json` "
        f"with `{au.get('config', 'bench/audit/groundctl.toml')}` (the issue's checklist: "
        "[ssh] allow_users, [firewall] 22/80/443, [fail2ban] three jails, [postgres] "
        "manage with an app role, one [[service]] as `nobody` with a 0600 env file). Lynis "
        f"{ly['version']}: `lynis audit system --quick --no-colors` with its log and report "
        "in a temp dir (the default profile: every test). Run time: groundctl with "
        f"{gt.get('tool', '?')} after one warm-up run, exit codes ignored; Lynis (minutes per "
        "run) timed run by run, its findings from the last run. Peak RSS: `/usr/bin/time -v` "
        "(for Lynis, a shell script running hundreds of short children, that is its largest "
        "single process, not the sum; for groundctl it is `apt-get -s upgrade`, which it runs "
        "to count pending security updates, so its own VmHWM is listed too). Lynis skips the "
        "tests of a daemon that is not running (SSH-74xx without sshd, DBS-18xx without "
        "PostgreSQL); groundctl reads the configuration files instead (`sshd -T`, else "
        "sshd_config) and reports a check it cannot run as an error.", "",
        "| | groundctl audit | Lynis |", "|---|---|---|",
        f"| run time, median | {_s(gt['median_s'])} ({len(gt['runs_s'])} runs: "
        f"{', '.join(f'{t:.2f}' for t in gt['runs_s'])}) | {_s(lt['median_s'])} "
        f"({len(lt['runs_s'])} runs: {', '.join(f'{t:.1f}' for t in lt['runs_s'])}) |",
        f"| peak RSS, largest process incl. children (`/usr/bin/time -v`) | "
        f"{_mib(g['peak_rss_kib'])} | {_mib(ly['peak_rss_kib'])} |",
        f"| peak RSS of the process itself (VmHWM) | {_mib(g.get('own_peak_rss_kib'))} | n/a "
        "(a shell script) |",
        f"| checks / tests | {g['checks']} checks: {g['passed']} passed, {g['failed']} failed, "
        f"{g['skipped']} skipped, {g.get('errors', 0)} errors | {ly['tests_performed']} tests "
        "performed |",
        f"| findings | {g['failed']} failed checks | {len(ly['warnings'])} warnings, "
        f"{len(ly['suggestions'])} suggestions |",
        f"| score | {g['score']} / 100 | hardening index {ly['hardening_index']} / 100 |",
        f"| exit status | {g['exit']} | {ly['exit']} |", "",
        "groundctl's failed checks: "
        + "; ".join(f"`{c['id']}` ({c['severity']}): {_cell(c['evidence'])}"
                    for c in g["failed_checks"]) + ".", "",
        "Lynis warnings: " + ("; ".join(f"{w['id']} {_cell(w['text'])}"
                                        + (f" ({_cell(w['details'])})" if w["details"] else "")
                                        for w in ly["warnings"]) or "none") + ".", "",
        "Where the topics overlap (groundctl check → its status; Lynis test id → what it "
        "reported, warnings and suggestions):", "",
        "| topic | groundctl audit | Lynis |", "|---|---|---|"]
    for r in au["overlap"]:
        lines.append(f"| {r['topic']} | {_gc_cell(r['groundctl'])} | {_ly_cell(r)} |")
    mapped = {x["id"] + x["text"] for r in au["overlap"] for x in r["lynis"]}
    other = [s for s in ly["suggestions"] + ly["warnings"]
             if not any(s["id"] + s["text"] in k for k in mapped)]
    ids = sorted({s["id"].split("-")[0] for s in other})
    lines += [
        "",
        f"Both flag: {', '.join(r['topic'] for r in both) or 'none'}. Only groundctl: "
        f"{', '.join(r['topic'] for r in only_gc) or 'none'}. Only Lynis: "
        f"{', '.join(r['topic'] for r in only_ly) or 'none'}. Lynis's other "
        f"{len(other)} findings are outside the checklist (test groups: {', '.join(ids)}): "
        "kernel and compiler hardening, partitions, banners, auditing, malware scanners, "
        "package tools. groundctl checks what Lynis has no test for: the firewall's exact "
        "ports against the config, sockets listening beyond loopback cross-checked against the "
        "firewall, the app's database role, services running as root, secret-file modes, "
        "backups recent and verified. Lynis cannot know the intended state (which users, which "
        "ports), so it reports generic advice; groundctl checks the server against its config "
        "and says how to fix each failure.", ""]
    if au.get("lynis_tests_only"):
        lines.insert(2, f"**Smoke run: Lynis ran only `--tests \"{au['lynis_tests_only']}\"`; its "
                        "counts, index and time are not those of a full audit.**\n")
        findings.append("bench/audit result is a smoke run (BENCH_LYNIS_TESTS set): rerun "
                        "`bench/run-all --no-setup audit` for a full comparison.")
    sections.append("\n".join(lines))
