#!/usr/bin/env python3
"""Generate the statistics metadata table from the secstat .proto files.

Every numeric field of a statistics message carries a trailing comment that
starts with "[kind unit]" (kind: counter or gauge). This script reads those
comments and writes stat_meta_table.c: for every message, one entry per
field in field-number order (the order of protobuf-c's descriptor arrays),
with the JSON name, kind, unit and help text. The build fails when a
numeric field lacks its kind, so the table cannot drift from the schema.

usage: gen_stat_meta.py OUT.c PROTO...
"""
import re
import sys

FIELD_RE = re.compile(
    r"^\s*(optional|repeated|required)?\s*([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*"
    r"(\[[^\]]*\])?\s*;\s*(//\s*(.*))?$")
ONEOF_FIELD_RE = re.compile(
    r"^\s*([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(\[[^\]]*\])?\s*;\s*(//\s*(.*))?$")
MESSAGE_RE = re.compile(r"^\s*message\s+(\w+)\s*\{")
ONEOF_RE = re.compile(r"^\s*oneof\s+(\w+)\s*\{")
PACKAGE_RE = re.compile(r"^\s*package\s+([\w.]+)\s*;")
JSON_RE = re.compile(r'json_name\s*=\s*"([^"]+)"')
KIND_RE = re.compile(r"^\[(counter|gauge)\s+([a-z_]+)\]\s*(.*)$")
NUMERIC = {"uint64", "uint32", "int64", "int32", "fixed64", "fixed32",
           "sint64", "sint32", "double", "float"}


def camel_to_lower(name):
    """protoc-c's C name for a message: FooBar -> foo_bar."""
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i > 0:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def json_default(field):
    """protobuf's JSON name rule: drop '_' and upper-case what follows."""
    out, upper = [], False
    for ch in field:
        if ch == "_":
            upper = True
        elif upper:
            out.append(ch.upper())
            upper = False
        else:
            out.append(ch)
    return "".join(out)


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse(path, messages, errors):
    package = ""
    stack = []  # [kind, name]: kind is "message", "oneof" or "other"
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            m = PACKAGE_RE.match(line)
            if m:
                package = m.group(1)
                continue
            m = MESSAGE_RE.match(line)
            if m:
                stack.append(["message", m.group(1)])
                full = package + "." + m.group(1)
                messages.append({"full": full, "name": m.group(1),
                                 "package": package, "fields": []})
                continue
            m = ONEOF_RE.match(line)
            if m:
                stack.append(["oneof", m.group(1)])
                continue
            if re.match(r"^\s*(enum|service)\s+\w+\s*\{", line):
                stack.append(["other", ""])
                continue
            if re.match(r"^\s*\}", line):
                if stack:
                    stack.pop()
                continue
            if not stack or stack[-1][0] == "other":
                continue
            # the innermost open message owns the field
            names = [s[1] for s in stack if s[0] == "message"]
            owner = next(x for x in reversed(messages)
                         if x["name"] == names[-1])
            m = FIELD_RE.match(line)
            if stack[-1][0] == "oneof":
                m2 = ONEOF_FIELD_RE.match(line)
                if not m2:
                    continue
                label, ftype, fname, num, opts, comment = (
                    "optional", m2.group(1), m2.group(2), m2.group(3),
                    m2.group(4), m2.group(6))
            elif m:
                label, ftype, fname, num, opts, comment = (
                    m.group(1), m.group(2), m.group(3), m.group(4),
                    m.group(5), m.group(7))
            else:
                continue
            jm = JSON_RE.search(opts or "")
            json_name = jm.group(1) if jm else json_default(fname)
            kind, unit, text = "NONE", "", (comment or "").strip()
            km = KIND_RE.match(text)
            if km:
                kind = km.group(1).upper()
                unit, text = km.group(2), km.group(3).strip()
            if ftype in NUMERIC and kind == "NONE" and not is_identity(fname):
                errors.append("%s:%d: numeric field %s.%s has no [kind unit]"
                              % (path, lineno, owner["full"], fname))
            owner["fields"].append({"num": int(num), "name": fname,
                                    "json": json_name, "kind": kind,
                                    "unit": unit, "help": text})


# Numeric fields that identify rather than measure.
IDENTITY = {"cid", "usid", "unique_adapter_id", "port", "persistent_port",
            "tpgt", "epoch", "schema_version", "agent_start_unix_ms",
            "error_code_base", "request_id", "status", "deadline_ms",
            "max_age_ms", "collected_unix_ms", "last_success_unix_ms",
            "consecutive_failures", "collect_duration_us",
            "max_request_bytes", "collect_interval_ms", "reqid",
            "spi_in", "spi_out", "install_unix_s", "last_use_in_unix_s",
            "last_use_out_unix_s", "ike_sa_unique_id", "unique_id",
            "version", "local_port", "remote_port",
            # stream.proto: stream bookkeeping and fleet side tables
            "sequence", "heartbeat_interval_ms", "full_every", "latency_us",
            "sum", "hosts", "min", "max", "min_host", "max_host",
            "hosts_ok", "duration_us"}


def is_identity(name):
    return name in IDENTITY


def main():
    out, protos = sys.argv[1], sys.argv[2:]
    messages, errors = [], []
    for p in protos:
        parse(p, messages, errors)
    if errors:
        sys.stderr.write("\n".join(errors) + "\n")
        return 1
    lines = ["/* Generated by tools/gen_stat_meta.py from the .proto files."
             " Do not edit. */", '#include "stat_meta.h"']
    for p in protos:
        base = p.split("proto/", 1)[-1] if "proto/" in p else p
        lines.append('#include "%s"' % base.replace(".proto", ".pb-c.h"))
    lines.append("")
    for msg in messages:
        msg["fields"].sort(key=lambda f: f["num"])
        cname = camel_to_lower(msg["name"])
        lines.append("static const struct stat_field_meta %s_fields[] = {"
                     % cname)
        for f in msg["fields"]:
            lines.append("\t{%s, %s, STAT_%s, %s, %s}," % (
                c_string(f["name"]), c_string(f["json"]), f["kind"],
                c_string(f["unit"]), c_string(f["help"])))
        if not msg["fields"]:
            lines.append("\t{NULL, NULL, STAT_NONE, NULL, NULL},")
        lines.append("};")
    lines.append("")
    lines.append("const struct stat_message_meta stat_meta_messages[] = {")
    for msg in messages:
        cname = camel_to_lower(msg["name"])
        desc = "%s__%s__descriptor" % (msg["package"].replace(".", "__"),
                                        cname)
        lines.append("\t{&%s, %s_fields, %d}," % (desc, cname,
                                                 len(msg["fields"])))
    lines.append("};")
    lines.append("const unsigned stat_meta_n_messages = %d;" % len(messages))
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
