#!/usr/bin/env python3
"""Keep the field tables of docs/data-model.md in step with the schema.

The document holds one table per statistics message between the markers

    <!-- fields secstat.v1.MessageName -->
    ...
    <!-- end fields -->

The columns that describe the field itself (number, proto name, Windows
name, Windows type, kind, unit, meaning) come from the .proto files, their
"[kind unit]" comments (the same ones tools/gen_stat_meta.py reads) and
the Windows types below. The last two columns, "sim" and "Linux source",
are prose: the script keeps what the document already says for a field
and only proposes text (SEEDS) for a row the document does not have yet.
So provider authors edit those cells in the document itself, and a schema
change can never leave a field undocumented.

usage: gen_data_model.py [--check] DOC PROTO...
  --check  exit 1 (and say why) when DOC is not what the script would
           write, or when a source cell is empty
"""
import importlib.util
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "gen_stat_meta", os.path.join(HERE, "gen_stat_meta.py"))
gen_stat_meta = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_stat_meta)

BEGIN_RE = re.compile(r"^<!-- fields ([\w.]+) -->\s*$")
END = "<!-- end fields -->"
HEADER = ("| # | Field | Windows name | Windows type | Kind | Unit | Meaning "
          "| sim | Linux source |")
RULE = "|---|---|---|---|---|---|---|---|---|"

# Windows type of each member: a default per message, then exceptions.
# "Linux" marks what secstat adds to the Windows shape.
WIN_TYPES = {
    "IpsecAggregateSaStatistics": ("UINT32", {}),
    "IpsecEspDropPacketStatistics": ("UINT32", {}),
    "IpsecAhDropPacketStatistics": ("UINT32", {}),
    "IpsecAggregateDropPacketStatistics": ("UINT32", {}),
    "IpsecTrafficStatistics": ("UINT64", {}),
    "IpsecStatistics": ("struct", {}),
    "XfrmMibCounter": ("Linux", {}),
    "NamespaceIpsecStatistics": ("Linux", {}),
    "IpsecGetStatisticsResponse": ("Linux", {
        "statistics": "IPSEC_STATISTICS1"}),
    "IkeextIpVersionSpecificKeymoduleStatistics": ("UINT32", {}),
    "IkeextKeymoduleStatistics": ("UINT32", {
        "v4_statistics": "struct", "v6_statistics": "struct",
        "error_frequency_table": "UINT32[97]",
        "error_code_base": "implicit (13800)"}),
    "IkeextIpVersionSpecificCommonStatistics": ("UINT32", {}),
    "IkeextCommonStatistics": ("UINT32", {
        "v4_statistics": "struct", "v6_statistics": "struct"}),
    "IkeextStatistics": ("struct", {}),
    "MsiscsiMmIpsecStats": ("ULONGLONG", {}),
    "MsiscsiQmIpsecStats": ("ULONGLONG", {}),
    "MsiscsiConnectionStatistics": ("ULONGLONG", {
        "iscsi_name": "WCHAR[224]", "cid": "USHORT"}),
    "MsiscsiSessionStatistics": ("ULONGLONG", {
        "iscsi_name": "WCHAR[224]", "connections": "Linux"}),
    "MsiscsiInitiatorInstanceStatistics": ("ULONG", {
        "unique_adapter_id": "ULONGLONG"}),
    "MsiscsiInitiatorLoginStatistics": ("ULONG", {
        "unique_adapter_id": "ULONGLONG"}),
    "MsiscsiNicPerformance": ("ULONG", {"port": "WMI instance"}),
    "MsiscsiRequestTimeStatistics": ("ULONG", {
        "iscsi_name": "WCHAR[224]", "cid": "USHORT",
        "usid": "ULONGLONG", "unique_adapter_id": "ULONGLONG"}),
    "IscsiHba": ("class", {"instance_name": "WMI InstanceName",
                           "unique_adapter_id": "ULONGLONG"}),
    "IkeSaDetail": ("—", {}),
    "IpsecSaDetail": ("—", {}),
    "ConnectionDetail": ("—", {}),
    "TunnelDetail": ("—", {}),
}

# Fields numbered from 100 are Linux additions in every message.
LINUX_FIELD_MIN = 100

XFRM = "xfrm (see its section)"
XFRM_VICI = "xfrm, vici (see their sections)"
NO_AUTHIP = ("AuthIP: not observable (no AuthIP implementation exists on "
             "Linux)")
IKE_DAEMONS = "IKEv1, IKEv2: vici, whack (see their sections). " + NO_AUTHIP
ISCSI = "iscsi (see its section)"
ISCSI_IPSEC = ("iscsi, from the SAs that cover the HBA's connections "
               "(see its section)")

NO_SIM = "not simulated"
PROCFS = "procfs (xfrm for other namespaces): "
SIM_EM = "simulated (AuthIP); 0 (IKEv1, IKEv2)"
EM_ONLY = ("not observable: extended mode exists only in AuthIP, which Linux "
           "does not implement (Windows reports 0 for IKEv1 and IKEv2)")

# Proposed cells for rows the document does not have yet:
# message -> (sim, source, {field: (sim, source)}).
SIM = "simulated"
SEEDS = {
    "IpsecAggregateSaStatistics": (SIM, XFRM_VICI, {
        "offloaded_sas": (SIM, XFRM + ": SAs bound to an offload device"),
    }),
    "IpsecEspDropPacketStatistics": (SIM, "", {
        "invalid_spis_on_inbound": (SIM,
            "not observable per protocol: Linux counts unknown-SPI drops "
            "for all protocols together (XfrmInNoStates, aggregate block)"),
        "decryption_failures_on_inbound": (SIM,
            "not observable: Linux does not count decryption failures "
            "apart from integrity failures (both end in "
            "XfrmInStateProtoError)"),
        "authentication_failures_on_inbound": (SIM,
            XFRM + ": per-SA integrity_failed of ESP SAs"),
        "replay_check_failures_on_inbound": (SIM,
            XFRM + ": per-SA replay and replay_window of ESP SAs"),
        "sa_not_initialized_on_inbound": (SIM,
            "not observable per protocol: Linux counts larval-SA drops for "
            "all protocols together (XfrmAcquireError, aggregate block)"),
    }),
    "IpsecAhDropPacketStatistics": (SIM, "", {
        "invalid_spis_on_inbound": (SIM,
            "not observable per protocol: Linux counts unknown-SPI drops "
            "for all protocols together (XfrmInNoStates, aggregate block)"),
        "authentication_failures_on_inbound": (SIM,
            XFRM + ": per-SA integrity_failed of AH SAs"),
        "replay_check_failures_on_inbound": (SIM,
            XFRM + ": per-SA replay and replay_window of AH SAs"),
        "sa_not_initialized_on_inbound": (SIM,
            "not observable per protocol: Linux counts larval-SA drops for "
            "all protocols together (XfrmAcquireError, aggregate block)"),
    }),
    "IpsecAggregateDropPacketStatistics": (SIM, "", {
        "invalid_spis_on_inbound": (SIM, PROCFS + "XfrmInNoStates"),
        "decryption_failures_on_inbound": (SIM,
            "not observable: Linux counts ESP decryption failures together "
            "with integrity failures in XfrmInStateProtoError"),
        "authentication_failures_on_inbound": (SIM,
            PROCFS + "XfrmInStateProtoError"),
        "udp_esp_validation_failures_on_inbound": (SIM,
            "not observable: no XFRM counter isolates NAT-T validation "
            "failures; an encapsulation-type mismatch is counted in "
            "XfrmInStateMismatch with selector mismatches"),
        "replay_check_failures_on_inbound": (SIM,
            PROCFS + "XfrmInStateSeqError"),
        "invalid_clear_text_inbound": (SIM, PROCFS + "XfrmInTmplMismatch"),
        "sa_not_initialized_on_inbound": (SIM, PROCFS + "XfrmAcquireError"),
        "receive_over_incorrect_sa_inbound": (SIM,
            PROCFS + "XfrmInStateMismatch"),
        "secure_receives_not_matching_filters": (SIM,
            PROCFS + "XfrmInNoPols"),
        "total_drop_packets_inbound": (SIM,
            PROCFS + "sum of every XfrmIn* counter and XfrmAcquireError"),
    }),
    "IpsecTrafficStatistics": (SIM, XFRM_VICI, {
        "offload_byte_count": (SIM,
            XFRM + ": bytes of SAs bound to an offload device"),
    }),
    "XfrmMibCounter": ("simulated (the 28 counters of kernel 6.1)",
                       "procfs (own namespace), xfrm (other namespaces)",
                       {}),
    "IkeextIpVersionSpecificKeymoduleStatistics": (SIM, IKE_DAEMONS, {
        "current_active_extended_modes": (SIM_EM, EM_ONLY),
        "total_extended_modes_started": (SIM_EM, EM_ONLY),
        "total_successful_extended_modes": (SIM_EM, EM_ONLY),
        "total_failed_extended_modes": (SIM_EM, EM_ONLY),
        "total_impersonation_extended_modes": (SIM_EM, EM_ONLY),
        "total_impersonation_main_modes": (SIM_EM,
            "not observable: impersonation (main modes negotiated with a "
            "user's Kerberos credentials) is an AuthIP feature; Linux IKE "
            "daemons have no such mode"),
    }),
    "IkeextKeymoduleStatistics": (SIM, IKE_DAEMONS, {
        "error_code_base": ("13800",
            "13800 whenever the table is present"),
        "extended_mode_negotiation_time": (SIM_EM, EM_ONLY),
    }),
    "IkeextIpVersionSpecificCommonStatistics": (SIM,
        "see the vici and whack sections", {}),
    "IkeextCommonStatistics": (SIM, "vici (see its section)", {}),
    "MsiscsiMmIpsecStats": (SIM, ISCSI_IPSEC, {}),
    "MsiscsiQmIpsecStats": (SIM, ISCSI_IPSEC, {}),
    "MsiscsiConnectionStatistics": (SIM, ISCSI, {}),
    "MsiscsiSessionStatistics": (SIM, ISCSI, {}),
    "MsiscsiInitiatorInstanceStatistics": (SIM, ISCSI, {}),
    "MsiscsiInitiatorLoginStatistics": (SIM, ISCSI, {}),
    "MsiscsiNicPerformance": (SIM, ISCSI, {}),
    "MsiscsiRequestTimeStatistics": (SIM, ISCSI, {}),
    "IscsiHba": (SIM, ISCSI, {"netns": ("not simulated", ISCSI)}),
    "IkeSaDetail": (NO_SIM, "vici (see its section)", {}),
    "IpsecSaDetail": (NO_SIM, "xfrm, vici, whack (see their sections)", {}),
    "ConnectionDetail": (NO_SIM, "vici (see its section)", {}),
    "TunnelDetail": (NO_SIM, "xfrm, vici (see their sections)", {}),
}


def load(protos):
    messages, errors = [], []
    for p in protos:
        gen_stat_meta.parse(p, messages, errors)
    if errors:
        sys.stderr.write("\n".join(errors) + "\n")
        sys.exit(2)
    by_name = {}
    for m in messages:
        m["fields"].sort(key=lambda f: f["num"])
        by_name[m["full"]] = m
    return by_name


def field_types(protos):
    """proto type of every field: (message, field) -> (label, type)."""
    types = {}
    msg_re = re.compile(r"^\s*message\s+(\w+)\s*\{")
    fld_re = re.compile(r"^\s*(optional|repeated|required)?\s*([\w.]+)\s+"
                        r"(\w+)\s*=\s*\d+")
    for p in protos:
        stack = []
        with open(p, encoding="utf-8") as f:
            for line in f:
                m = msg_re.match(line)
                if m:
                    stack.append(m.group(1))
                    continue
                if re.match(r"^\s*(enum|oneof|service)\s+\w+\s*\{", line):
                    stack.append(None)
                    continue
                if re.match(r"^\s*\}", line):
                    if stack:
                        stack.pop()
                    continue
                names = [s for s in stack if s]
                m = fld_re.match(line)
                if m and names:
                    types[(names[-1], m.group(3))] = (m.group(1) or "",
                                                       m.group(2))
    return types


def cell(s):
    return s.replace("|", "/").replace("\n", " ").strip()


def existing_rows(lines):
    """field name -> (sim cell, source cell) of a table in the document."""
    rows = {}
    for line in lines:
        if not line.startswith("| ") or line.startswith(HEADER[:12]):
            continue
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) != 9:
            continue
        name = parts[1].strip("`")
        rows[name] = (parts[7], parts[8])
    return rows


def win_type(msg, field, ftype):
    default, overrides = WIN_TYPES.get(msg["name"], ("", {}))
    if field["num"] >= LINUX_FIELD_MIN:
        return "Linux"
    if field["name"] in overrides:
        return overrides[field["name"]]
    if ftype[1] in ("string", "bool") and default not in ("Linux", "—"):
        return "string" if ftype[1] == "string" else "BOOLEAN"
    if ftype[1] not in gen_stat_meta.NUMERIC and ftype[1] not in (
            "string", "bool"):
        if default == "Linux":
            return "Linux"
        return "struct" if ftype[0] != "repeated" else "instances"
    return default


def render(msg, types, old):
    out = [HEADER, RULE]
    seed_sim, seed_src, seed_fields = SEEDS.get(msg["name"], ("", "", {}))
    for f in msg["fields"]:
        ftype = types.get((msg["name"], f["name"]), ("", ""))
        kind = f["kind"].lower() if f["kind"] != "NONE" else ""
        is_stat = kind != ""
        if f["name"] in old:
            sim, src = old[f["name"]]
        elif f["name"] in seed_fields:
            sim, src = seed_fields[f["name"]]
        elif ftype[1] in gen_stat_meta.NUMERIC or ftype[1] in (
                "string", "bool"):
            sim, src = seed_sim, seed_src
        else:
            sim, src = "", ""
        meaning = f["help"]
        if not meaning and ftype[1] not in gen_stat_meta.NUMERIC:
            meaning = ftype[1].split(".")[-1] if ftype[1] not in (
                "string", "bool") else ""
        out.append("| %d | `%s` | %s | %s | %s | %s | %s | %s | %s |" % (
            f["num"], f["name"],
            "—" if f["num"] >= LINUX_FIELD_MIN or WIN_TYPES.get(
                msg["name"], ("",))[0] in ("Linux", "—") else f["json"],
            win_type(msg, f, ftype),
            kind or "—", f["unit"] or "—", cell(meaning) or "—",
            cell(sim) or "—", cell(src) or "—"))
    return out


def regenerate(doc_lines, by_name, types):
    out, problems, i = [], [], 0
    seen = set()
    while i < len(doc_lines):
        line = doc_lines[i]
        m = BEGIN_RE.match(line)
        if not m:
            out.append(line)
            i += 1
            continue
        full = m.group(1)
        j = i + 1
        while j < len(doc_lines) and doc_lines[j].strip() != END:
            j += 1
        if j == len(doc_lines):
            problems.append("%s: no '%s'" % (full, END))
            out.extend(doc_lines[i:])
            break
        if full not in by_name:
            problems.append("%s: no such message in the schema" % full)
            out.extend(doc_lines[i:j + 1])
            i = j + 1
            continue
        seen.add(full)
        table = render(by_name[full], types,
                       existing_rows(doc_lines[i + 1:j]))
        for row in table[2:]:
            parts = [p.strip() for p in row.strip("|").split("|")]
            if parts[4] != "—" and parts[8] == "—":
                problems.append("%s.%s: statistic without a Linux source"
                                % (full, parts[1].strip("`")))
        out.append(line)
        out.extend(table)
        out.append(END)
        i = j + 1
    for full, msg in by_name.items():
        if full in seen or not msg["name"] in WIN_TYPES:
            continue
        if any(f["kind"] != "NONE" for f in msg["fields"]):
            problems.append("%s: statistics message without a table" % full)
    return out, problems


def main():
    args = sys.argv[1:]
    check = bool(args) and args[0] == "--check"
    if check:
        args = args[1:]
    if len(args) < 2:
        sys.stderr.write(__doc__)
        return 2
    doc, protos = args[0], args[1:]
    by_name = load(protos)
    types = field_types(protos)
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    new, problems = regenerate(lines, by_name, types)
    new_text = "\n".join(new)
    if check:
        if new_text != text:
            problems.append("%s is out of date: run tools/gen_data_model.py"
                            % doc)
        for p in problems:
            sys.stderr.write(p + "\n")
        return 1 if problems else 0
    for p in problems:
        sys.stderr.write("warning: " + p + "\n")
    if new_text != text:
        with open(doc, "w", encoding="utf-8") as f:
            f.write(new_text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
