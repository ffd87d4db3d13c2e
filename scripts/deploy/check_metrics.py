#!/usr/bin/env python3
"""Checks that the Grafana dashboard and the Prometheus rules ask only for
metrics and labels candor-server exports.

  check_metrics.py EXPECTED_METRICS DASHBOARD_JSON [RULES_YAML ...]

EXPECTED_METRICS lists one metric a line: `name type labels` (type is
counter, gauge or histogram; labels comma-separated or `-`; a label with a
fixed set of values lists them: `stage=queue|search`). Every PromQL
expression (panel targets, template variables, alert rules) is checked:
  - each candor_* and process_* name is listed (a histogram's
    _bucket/_sum/_count series count as the histogram);
  - a label matched with = or != against a label with listed values names
    one of them;
  - each label it matches, groups by or prints in a legend belongs to one of
    its metrics, to the scrape target (job, instance, namespace, pod,
    component) or is `le` next to a histogram's buckets;
  - rate()/irate()/increase() read only counters and histogram series.
The dashboard must parse, have a uid and a title, unique panel ids, and an
expression in every target. Prints each finding and exits 1 if there is any.
"""

import json
import re
import sys

import yaml

TARGET_LABELS = {"job", "instance", "namespace", "pod", "component"}
NON_CANDOR_METRICS = {"up"}
HIST_SUFFIXES = ("_bucket", "_sum", "_count")


def load_expected(path):
    metrics = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 3 or parts[1] not in ("counter", "gauge", "histogram"):
                raise SystemExit(f"{path}:{n}: expected `name counter|gauge|histogram labels`")
            name, kind, labels = parts
            names, values = set(), {}
            for label in [] if labels == "-" else labels.split(","):
                label, _, fixed = label.partition("=")
                names.add(label)
                if fixed:
                    values[label] = set(fixed.split("|"))
            metrics[name] = (kind, names, values)
    return metrics


def resolve(series, metrics):
    """(metric name, series suffix) for a series name, or (None, None)."""
    if series in metrics:
        return series, ""
    for suffix in HIST_SUFFIXES:
        base = series[: -len(suffix)]
        if series.endswith(suffix) and metrics.get(base, ("",))[0] == "histogram":
            return base, suffix
    return None, None


def check_expr(where, expr, metrics, legend=None):
    findings = []
    no_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    labels = set(re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", no_strings))
    for group in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", no_strings):
        labels |= {l.strip() for l in group.split(",") if l.strip()}
    m = re.match(r"\s*label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*([a-zA-Z_]\w*)\s*\)\s*$", expr)
    if m:
        labels.add(m.group(2))
    if legend:
        labels |= set(re.findall(r"\{\{\s*([a-zA-Z_]\w*)\s*\}\}", legend))
    labels |= set(re.findall(r"\$labels\.([a-zA-Z_]\w*)", legend or ""))

    allowed = set(TARGET_LABELS)
    fixed_values = {}
    for series in set(re.findall(r"\b(?:candor|process)_\w+", no_strings)):
        name, suffix = resolve(series, metrics)
        if name is None:
            findings.append(f"{where}: {series} is not in the expected metrics")
            continue
        kind, metric_labels, values = metrics[name]
        allowed |= metric_labels
        for label, vals in values.items():
            fixed_values.setdefault(label, set()).update(vals)
        if suffix == "_bucket":
            allowed.add("le")
    for label, value in re.findall(r'([a-zA-Z_]\w*)\s*!?=\s*"((?:[^"\\]|\\.)*)"', expr):
        if label in fixed_values and value not in fixed_values[label]:
            findings.append(f"{where}: {label}=\"{value}\" is none of "
                            f"{'|'.join(sorted(fixed_values[label]))}")
    for fn, series in re.findall(r"\b(rate|irate|increase)\s*\(\s*(candor_\w+)", no_strings):
        name, suffix = resolve(series, metrics)
        if name is not None and metrics[name][0] == "gauge":
            findings.append(f"{where}: {fn}() over the gauge {series}")
    # A metric-looking name right before a selector that is not candor's.
    for series in re.findall(r"\b([a-zA-Z_:][\w:]*)\s*\{", no_strings):
        if (not series.startswith(("candor_", "process_"))
                and series not in NON_CANDOR_METRICS):
            findings.append(f"{where}: unknown metric {series}")
    for label in sorted(labels - allowed):
        findings.append(f"{where}: label {label} belongs to none of the expression's metrics")
    return findings


def check_dashboard(path, metrics):
    findings = []
    try:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        return [f"{path}: does not parse: {e}"]
    for key in ("uid", "title", "panels"):
        if not dash.get(key):
            findings.append(f"{path}: no {key}")
    panels = []
    for p in dash.get("panels", []):
        panels.append(p)
        panels.extend(p.get("panels", []))  # collapsed rows nest theirs
    ids = [p.get("id") for p in panels]
    for dup in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        findings.append(f"{path}: panel id {dup} is used twice")
    exprs = 0
    for p in panels:
        if p.get("type") == "row":
            continue
        targets = p.get("targets") or []
        if not targets:
            findings.append(f"{path}: panel {p.get('title')!r} has no query")
        for t in targets:
            where = f"{path}: panel {p.get('title')!r} {t.get('refId', '?')}"
            if not t.get("expr", "").strip():
                findings.append(f"{where}: empty expression")
                continue
            exprs += 1
            findings += check_expr(where, t["expr"], metrics, t.get("legendFormat"))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        findings += check_expr(f"{path}: variable ${v.get('name')}", q, metrics)
    if exprs == 0:
        findings.append(f"{path}: no expressions at all")
    return findings


def check_rules(path, metrics):
    findings = []
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        return [f"{path}: does not parse: {e}"]
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            text = " ".join(str(v) for v in (rule.get("annotations") or {}).values())
            findings += check_expr(f"{path}: {name}", rule.get("expr", ""), metrics, text)
    return findings


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    metrics = load_expected(argv[1])
    findings = check_dashboard(argv[2], metrics)
    for rules in argv[3:]:
        findings += check_rules(rules, metrics)
    for f in findings:
        print(f"check_metrics: {f}", file=sys.stderr)
    if findings:
        return 1
    print(f"check_metrics: dashboard and rules use only the {len(metrics)} expected metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
