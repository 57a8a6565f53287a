#!/usr/bin/env python3
"""Checks a Prometheus exposition of secstat against the RPC answers.

An independent implementation of the naming rules of secstatd(8),
METRICS (the C writer is proto/model/prom.c): from the JSON replies that
`secstat --json` printed for the same snapshot, it derives every sample
the exposition must hold (name, labels, value) and compares both ways:
every expected sample present with its value, no statistic sample
unexplained. Kinds and units come from the .proto comments.

usage: prom_check.py [--per-host] [--aggregate] PROTO_DIR EXPOSITION JSON...

JSON files are `secstat --json ipsec|ikeext|iscsi` outputs. By default
the statistics of each host's reply are expected without a host label
(an agent's /metrics); --aggregate expects the fleet aggregate
("aggregate" of the document); --per-host expects each host's with
host="<server URL>".
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "tools"))
import gen_stat_meta as g  # noqa: E402  (the schema's own comment syntax)

# Structure that becomes labels: (message, field) -> (segment, constant
# label, value, [(label, key field)]). Same contract as prom.c's table.
RULES = {
    ("IpsecGetStatisticsResponse", "statistics"): ("", None, None, []),
    ("IpsecGetStatisticsResponse", "xfrm_mib"):
        ("xfrm_mib", None, None, [("counter", "name")]),
    ("IpsecGetStatisticsResponse", "namespaces"):
        ("netns", None, None, [("netns", "netns")]),
    ("NamespaceIpsecStatistics", "statistics"): ("", None, None, []),
    ("NamespaceIpsecStatistics", "xfrm_mib"):
        ("xfrm_mib", None, None, [("counter", "name")]),
    ("XfrmMibCounter", "value"): ("", None, None, []),
    ("IpsecStatistics", "inbound_traffic_statistics"):
        ("traffic", "direction", "inbound", []),
    ("IpsecStatistics", "outbound_traffic_statistics"):
        ("traffic", "direction", "outbound", []),
    ("IkeextGetStatisticsResponse", "statistics"): ("", None, None, []),
    ("IkeextStatistics", "ike_statistics"): ("", "key_module", "ike", []),
    ("IkeextStatistics", "authip_statistics"):
        ("", "key_module", "authip", []),
    ("IkeextStatistics", "ike_v2_statistics"):
        ("", "key_module", "ikev2", []),
    ("IkeextKeymoduleStatistics", "v4_statistics"):
        ("", "ip_version", "v4", []),
    ("IkeextKeymoduleStatistics", "v6_statistics"):
        ("", "ip_version", "v6", []),
    ("IkeextKeymoduleStatistics", "error_frequency_table"):
        ("error_frequency", None, None, [("error_code", "error_code_base")]),
    ("IkeextCommonStatistics", "v4_statistics"): ("", "ip_version", "v4", []),
    ("IkeextCommonStatistics", "v6_statistics"): ("", "ip_version", "v6", []),
    ("IscsiGetStatisticsResponse", "hbas"):
        ("", None, None, [("hba", "instance_name")]),
    ("IscsiHba", "nic_performance"): ("nic", None, None, [("port", "port")]),
    ("IscsiHba", "sessions"):
        ("session", None, None, [("session", "sysfs_name"),
                                 ("target", "iscsi_name"), ("usid", "usid")]),
    ("MsiscsiSessionStatistics", "connections"):
        ("connection", None, None, [("connection", "cid")]),
    ("IscsiHba", "request_time_statistics"):
        ("request_time", None, None, [("target", "iscsi_name"),
                                      ("usid", "usid"),
                                      ("connection", "cid")]),
}
FAMILIES = {"ipsec": ("ipsec", "IpsecGetStatisticsResponse"),
            "ikeext": ("ike", "IkeextGetStatisticsResponse"),
            "iscsi": ("iscsi", "IscsiGetStatisticsResponse")}


def parse_protos(proto_dir):
    """{message: {json_name: field}} with type, name, kind, unit."""
    msgs = {}
    for fn in sorted(os.listdir(proto_dir)):
        if not fn.endswith(".proto"):
            continue
        cur = None
        depth = 0
        for line in open(os.path.join(proto_dir, fn), encoding="utf-8"):
            m = g.MESSAGE_RE.match(line)
            if m:
                cur = msgs.setdefault(m.group(1), {})
                depth = 1
                continue
            if re.match(r"^\s*(oneof|enum)\s+\w+\s*\{", line):
                depth += 1
                continue
            if re.match(r"^\s*\}", line):
                depth -= 1
                if depth <= 0:
                    cur = None
                continue
            if cur is None:
                continue
            f = g.FIELD_RE.match(line)
            if not f:
                continue
            label, ftype, name, opts, comment = (f.group(1), f.group(2),
                                                 f.group(3), f.group(5),
                                                 f.group(7))
            jm = g.JSON_RE.search(opts or "")
            kind, unit = "NONE", ""
            km = g.KIND_RE.match((comment or "").strip())
            if km:
                kind, unit = km.group(1), km.group(2)
            cur[jm.group(1) if jm else g.json_default(name)] = {
                "name": name, "type": ftype.split(".")[-1],
                "repeated": label == "repeated", "kind": kind, "unit": unit}
    return msgs


def default_segment(field):
    if field == "statistics":
        return ""
    for suf in ("_statistics", "_stats"):
        if field.endswith(suf) and len(field) > len(suf):
            return field[:-len(suf)]
    return field


def metric_name(family, segs, leaf, kind, unit):
    toks = [t for t in leaf.split("_") if t]
    joined = "_".join(s for s in segs if s)
    last = joined.split("_")[-1] if joined else ""
    out, prev_byte = [], False
    for i, t in enumerate(toks):
        skip = ((kind == "counter" and i == 0 and t == "total") or
                (unit == "bytes" and t in ("byte", "bytes")) or
                (unit == "bytes" and prev_byte and t == "count") or
                (not out and last and t == last) or
                (unit == "milliseconds" and t == "ms") or
                (unit == "seconds" and t in ("s", "seconds")))
        prev_byte = t in ("byte", "bytes")
        if not skip:
            out.append(t)
    parts = ["secstat", family] + [s for s in segs if s] + out
    if unit == "bytes":
        parts.append("bytes")
    if unit in ("milliseconds", "seconds"):
        parts.append("seconds")
    if kind == "counter":
        parts.append("total")
    return "_".join(parts)


def fmt_value(v, unit):
    if unit == "milliseconds":
        return "%d.%03d" % (v // 1000, v % 1000)
    return str(v)


def expect(msgs, family, mtype, obj, segs, labels, out):
    for jname, val in obj.items():
        f = msgs[mtype].get(jname)
        if f is None:
            raise SystemExit("unknown field %s.%s" % (mtype, jname))
        rule = RULES.get((mtype, f["name"]))
        if f["type"] in msgs:
            seg = rule[0] if rule else default_segment(f["name"])
            for el in (val if f["repeated"] else [val]):
                lab = list(labels)
                if rule and rule[1]:
                    lab.append((rule[1], rule[2]))
                for lname, key in (rule[3] if rule else []):
                    kf = next((k for k, x in msgs[f["type"]].items()
                               if x["name"] == key), None)
                    if kf is not None and kf in el:
                        lab.append((lname, str(el[kf])))
                expect(msgs, family, f["type"], el, segs + [seg], lab, out)
            continue
        if f["kind"] == "NONE" or not isinstance(val, (int, list)):
            continue
        leaf = rule[0] if rule else f["name"]
        name = metric_name(family, segs, leaf, f["kind"], f["unit"])
        if f["repeated"]:
            base = 0
            if rule and rule[3]:
                bf = next((k for k, x in msgs[mtype].items()
                           if x["name"] == rule[3][0][1]), None)
                base = obj.get(bf, 0) if bf else 0
            lname = rule[3][0][0] if rule and rule[3] else "index"
            for i, v in enumerate(val):
                key = (name, tuple(labels + [(lname, str(base + i))]))
                out.setdefault(key, fmt_value(v, f["unit"]))
        else:
            out.setdefault((name, tuple(labels)), fmt_value(val, f["unit"]))


def parse_exposition(text):
    samples, types = {}, {}
    lab_re = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not m:
            raise SystemExit("unparsable sample: %r" % line)
        labels = tuple((k, v.replace('\\"', '"').replace("\\\\", "\\"))
                       for k, v in lab_re.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = m.group(4)
    return samples, types


def main(argv):
    per_host = "--per-host" in argv
    aggregate = "--aggregate" in argv
    args = [a for a in argv if not a.startswith("--")]
    proto_dir, expo_file, json_files = args[0], args[1], args[2:]
    msgs = parse_protos(proto_dir)
    got, types = parse_exposition(open(expo_file, encoding="utf-8").read())
    want = {}
    for jf in json_files:
        doc = json.load(open(jf, encoding="utf-8"))
        replies = []
        if aggregate:
            if doc.get("aggregate"):
                replies.append(([], doc["aggregate"]))
        else:
            for h in doc["hosts"]:
                if h["status"] == 0:
                    lab = [("host", h["server"])] if per_host else []
                    replies.append((lab, h["reply"]))
        for lab, reply in replies:
            for key, (family, mtype) in FAMILIES.items():
                if key in reply:
                    expect(msgs, family, mtype, reply[key], [], lab, want)
    # The statistics families only: identity and health are checked by
    # the shell tests.
    stat = {k: v for k, v in got.items()
            if re.match(r"^secstat_(ipsec|ike|iscsi)_", k[0])}
    errors = []
    for key, v in sorted(want.items()):
        if key not in stat:
            errors.append("missing: %s%s = %s" % (key[0], dict(key[1]), v))
        elif stat[key] != v:
            errors.append("value: %s%s = %s, RPC says %s"
                          % (key[0], dict(key[1]), stat[key], v))
    for key in sorted(set(stat) - set(want)):
        errors.append("unexpected: %s%s" % (key[0], dict(key[1])))
    for key in want:
        t = types.get(key[0])
        exp = "counter" if key[0].endswith("_total") else "gauge"
        if t != exp:
            errors.append("type of %s: %s, expected %s" % (key[0], t, exp))
    for e in errors[:40]:
        print("prom_check: " + e, file=sys.stderr)
    if errors:
        print("prom_check: %d problems" % len(errors), file=sys.stderr)
        return 1
    if not want:
        print("prom_check: nothing to compare", file=sys.stderr)
        return 1
    print("prom_check: %d samples match the RPC answers" % len(want))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
