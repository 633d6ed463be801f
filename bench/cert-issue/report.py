# SPDX-License-Identifier: MIT
"""The RESULTS.md section of bench/cert-issue (loaded by bench/run-all with runpy: no bytecode)."""

MIB = 1024  # KiB per MiB


def _mib(kib):
    return "n/a" if kib is None else f"{kib / MIB:.1f} MiB"


def _s(v):
    return "n/a" if v is None else f"{v:.3f} s" if v < 0.1 else f"{v:.2f} s"


def _side(x):
    """"0.05 s (0.04–1.05), CPU 0.04 s, peak RSS 23.3 MiB" for one side's summary."""
    if not x.get("ok_runs"):
        return "no valid certificate"
    return (f"{_s(x['median_wall_s'])} ({x['min_wall_s']:.2f}–{x['max_wall_s']:.2f}), "
            f"CPU {_s(x['median_cpu_s'])}, peak RSS {_mib(x['max_peak_hwm_kib'])}")


def _split(x):
    """"2.2 + 13.9 MiB": the split of the last valid run's largest sampled RSS."""
    sp = next((r.get("rss_split_at_sampled_peak_kib") for r in reversed(x.get("runs", []))
               if r["ok"] and r.get("rss_split_at_sampled_peak_kib")), None)
    if not sp or sp.get("anon") is None:
        return "n/a"
    return f"{sp['anon'] / MIB:.1f} + {sp['file'] / MIB:.1f} MiB"


def _kids(x):
    return _mib(x["max_children_peak_rss_kib"]) if x.get("max_children_peak_rss_kib") else "none"


def _runs(x, key, fmt):
    return ", ".join(fmt(r[key]) if r["ok"] else "failed" for r in x["runs"])


def cert_issue_report(ci, rows, sections, findings):
    """Goals row, section and findings of bench/cert-issue."""
    g, c, v = ci["groundctl"], ci["certbot"], ci.get("versions", {})
    n = ci["runs"]
    certbot = v.get("certbot", "certbot")
    ratio = (c["median_wall_s"] / g["median_wall_s"]
             if g.get("ok_runs") and c.get("ok_runs") and g["median_wall_s"] else None)
    rows.append((f"Time and peak memory to issue one certificate (Pebble on loopback, HTTP-01 "
                 f"standalone, EC P-256, new account; median of {n})", _side(g),
                 f"{certbot}: {_side(c)}", "none set (comparison)",
                 ("**FAIL** (a run produced no valid certificate)" if ci.get("failures")
                  else "n/a" if ratio is None
                  else f"certbot takes {ratio:.1f}× the time and "
                  f"{c['max_peak_hwm_kib'] / g['max_peak_hwm_kib']:.1f}× the memory")))
    ok_c = [r for r in c.get("runs", []) if r["ok"]]
    # Its logged pauses but the RSA account key generation (CPU, logged after "Registering").
    waits = [sum(x["s"] for x in r.get("pauses", []) if "Registering" not in x["after"])
             for r in ok_c]
    starts = [r["startup_s"] for r in ok_c if "startup_s" in r]
    slow_g = [r for r in g.get("runs", []) if r["ok"] and r["wall_s"] >= 0.9]
    fl = ci.get("start_up_only", {})
    lines = [
        "## Issuing a certificate: `groundctl cert issue` vs certbot (`bench/cert-issue`)", "",
        f"One local Pebble ({v.get('pebble', '?')}, Debian's) on 127.0.0.1 with "
        "`PEBBLE_VA_NOSLEEP=1` (it validates at once, not after 0–15 s), no nonce rejection "
        "and no authorization reuse, and `pebble-challtestsrv` as its DNS server answering "
        "127.0.0.1 for every name. Each run issues one certificate for a fresh name "
        "(`runN-gc.bench.test`, `runN-certbot.bench.test`) with a new ACME account, an EC P-256 "
        "certificate key and the tool's own standalone HTTP-01 responder on 127.0.0.1 at the "
        "port Pebble validates on. groundctl: `groundctl --json cert issue` with `[tls] challenge "
        "= \"standalone\"`, `key_type = \"ec-p256\"`, a new `state_dir` (so a new account key). "
        f"{certbot} ({v.get('python3', 'Python 3')}): `certbot certonly --standalone "
        "--http-01-port P --http-01-address 127.0.0.1 --key-type ecdsa --elliptic-curve secp256r1 "
        "--register-unsafely-without-email --agree-tos --non-interactive --server DIR` with its "
        "own config, work and logs directories per run and `REQUESTS_CA_BUNDLE` set to Pebble's "
        "HTTPS certificate.", "",
        f"{n} runs per side, interleaved (groundctl, certbot, then certbot, groundctl, ...) after "
        "one untimed warm-up each, each tool under `/usr/bin/time`. Wall time from spawn to "
        "exit; CPU = user + system of the process and any children it reaped (wait4); peak RSS "
        "= the tool's ru_maxrss as GNU time reports it (or its VmHWM sampled every 10 ms, if "
        "larger). Not wait4's ru_maxrss of a child of the Python bench: a child inherits its "
        "parent's high-water mark through fork/exec, so that reads ~15–25 MiB for `groundctl "
        "--help`, which uses 4. GNU time's figure is the largest of the tool and its reaped "
        "descendants; the descendants' VmRSS was sampled and neither tool started any. "
        "Every certificate was "
        "checked with `openssl verify` against Pebble's root and intermediate "
        "(`-verify_hostname NAME -purpose sslserver`), for an EC P-256 key and for the private "
        "key matching it; a run without a valid certificate counts as a failure.", "",
        "| | groundctl | certbot |", "|---|---|---|",
        f"| wall time, median | {_s(g.get('median_wall_s'))} | {_s(c.get('median_wall_s'))} |",
        f"| wall time per run (s) | {_runs(g, 'wall_s', lambda x: f'{x:.3f}')} "
        f"| {_runs(c, 'wall_s', lambda x: f'{x:.2f}')} |",
        f"| CPU per run (s) | {_runs(g, 'cpu_s', lambda x: f'{x:.3f}')} "
        f"| {_runs(c, 'cpu_s', lambda x: f'{x:.2f}')} |",
        f"| peak RSS per run | {_runs(g, 'peak_hwm_kib', _mib)} "
        f"| {_runs(c, 'peak_hwm_kib', _mib)} |",
        f"| at the largest sampled RSS: anonymous (heap, stacks) + file-backed (program, "
        f"libraries, shared with other processes) | {_split(g)} | {_split(c)} |",
        f"| child processes (peak RSS) | {_kids(g)} | {_kids(c)} |",
        f"| valid certificates | {g.get('ok_runs', 0)} of {n} | {c.get('ok_runs', 0)} of {n} |",
        *([f"| start-up alone (`{fl['groundctl']['argv']}`, `{fl['certbot']['argv']}`): wall, "
           f"peak RSS | {_s(fl['groundctl']['wall_s'])}, "
           f"{_mib(fl['groundctl']['peak_hwm_kib'])} | {_s(fl['certbot']['wall_s'])}, "
           f"{_mib(fl['certbot']['peak_hwm_kib'])} |"] if "groundctl" in fl else []),
        ""]
    if ok_c and starts:
        keygen = any("Registering" in x["after"] for x in ok_c[0]["pauses"])
        pauses = ", ".join(f"{x['s']:.2f}" for x in ok_c[0]["pauses"]) + " s" + (
            " (the one after “Registering” is the RSA account key being generated)"
            if keygen else "")
        lines += [
            f"Where certbot's time goes: {min(waits):.2f}–{max(waits):.2f} s of each run are "
            "pauses of 0.4 s or more in its debug log, its own fixed waits: "
            "a 1 s sleep after answering the challenge before it first polls the authorization "
            "(certbot's auth_handler, \"an initial second\"), up to 0.5 s to stop its standalone "
            "server (Python socketserver's poll interval) and a 1 s sleep before it fetches the "
            "finalized order (acme's finalize_order). Python start-up and imports take "
            f"{min(starts):.2f}–{max(starts):.2f} s (spawn to its first log line). Its debug log "
            f"in the first run has these pauses of 0.4 s or more: {pauses}. Its ACME account key "
            "is always RSA (2048 bits by default; certbot 2.1 has no other kind), groundctl's "
            "EC P-256. groundctl polls at once, then after Retry-After or 1 s.", ""]
    if slow_g:
        lines += [f"{len(slow_g)} of the groundctl runs took 1 s (or 2 s) longer: Pebble had "
                  "not finished validating by the first authorization poll, or not yet issued by "
                  "the first order poll after finalize (it finalizes in the background), and "
                  "groundctl then waits 1 s before polling again.", ""]
    lines.append(f"Load average (1 min) before→after: {ci['loadavg_before']:.1f}→"
                 f"{ci['loadavg_after']:.1f}; Pebble's own RSS {_mib(ci.get('pebble_rss_kib'))} "
                 "(the same for both sides, not counted).")
    lines.append("")
    sections.append("\n".join(lines))
    for f in ci.get("failures", []):
        findings.append(f"`bench/cert-issue`: no valid certificate: {f}")
