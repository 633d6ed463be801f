# SPDX-License-Identifier: MIT
"""The RESULTS.md section of bench/tls-grade (loaded by bench/run-all with runpy: no bytecode)."""


def _cell(v):
    if isinstance(v, dict):
        return "; ".join(f"{k}: {', '.join(x)}" for k, x in sorted(v.items()))
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v).replace("|", "\\|")


def tls_grade_report(tg, rows, sections, findings):
    """Goals row, section and findings of bench/tls-grade."""
    g, t, agree = tg["groundctl"], tg["testssl"], tg["agree"]
    ratio = t["median_s"] / g["median_s"] if g["median_s"] else None
    same = all(agree.values())
    rows.append((f"`tls grade` run time (median of {len(g['runs_s'])}), same verdicts",
                 f"{g['median_s']:.2f} s, grade {g['grade']}",
                 f"testssl.sh {t['version']}: {t['median_s']:.1f} s "
                 f"(median of {len(t['runs_s'])})",
                 "faster than testssl.sh, same verdicts",
                 ("**PASS**" if same and ratio and ratio > 1 else "**FAIL**")
                 + (f" ({ratio:.0f}× faster)" if ratio else "")))
    lines = [
        "## TLS rating: `groundctl tls grade` vs testssl.sh (`bench/tls-grade`)", "",
        f"One local {tg.get('nginx', 'nginx')} on 127.0.0.1 serving an ECDSA P-256 certificate "
        "for localhost (signed by a CA made by the bench, passed to both tools) with the TLS "
        "lines the provisioning renderer writes (Mozilla intermediate, HSTS 2 years). groundctl: "
        "`groundctl tls grade localhost:PORT --ca ca.pem --json`; testssl.sh: `-p -E -S -h "
        "--add-ca ca.pem --jsonfile` (protocols, suites per protocol, certificate, headers). "
        "Debian's testssl.sh 3.0 has no SSL Labs rating; "
        "the verdicts compared are the facts the grade rests on.", "",
        "| | groundctl | testssl.sh | same |", "|---|---|---|---|",
        f"| run time (s) | {_cell(g['runs_s'])} | {_cell(t['runs_s'])} | |"]
    for k in ("protocols", "ciphers", "trusted", "name_matches", "hsts_max_age"):
        lines.append(f"| {k} | {_cell(g[k])} | {_cell(t[k])} | "
                     f"{'yes' if agree[k] else '**no**'} |")
    lines += [f"| grade | {g['grade']} (score {g['score']}, {g['handshakes']} handshakes) "
              "| (none in 3.0) | |",
              "", "groundctl's reasons: " + _cell(g["reasons"]) + ".", ""]
    sections.append("\n".join(lines))
    for k, ok in agree.items():
        if not ok:
            findings.append(f"`tls grade` and testssl.sh disagree on {k}: groundctl "
                            f"{_cell(g[k])}, testssl.sh {_cell(t[k])}.")
