"""Read a Prometheus text page the way a scraper does, and flatten it.

usage: prom.py FILE

Parses FILE with prometheus_client's text parser (Debian's
python3-prometheus-client) and checks what the format and the conventions
ask of an exporter: each family once (its samples together after its HELP
and TYPE), a help text for each, no two families with the same help,
counters named *_total, histograms with cumulative buckets ending in +Inf
equal to _count. On success prints one line per sample, labels sorted:

    xlb_backend_up{backend="198.18.0.12",vip="198.18.1.1:80/tcp"} 1.0

and exits 0; otherwise prints what is wrong and exits 1.
"""
import collections
import sys

from prometheus_client.parser import text_string_to_metric_families


def problems(text, fams):
    out = []
    seen = collections.Counter(f.name for f in fams)
    out += ["family %s appears %d times (samples not together)" % (n, c)
            for n, c in seen.items() if c > 1]
    helps = collections.defaultdict(list)
    for f in fams:
        if not f.documentation:
            out.append("family %s has no help" % f.name)
        helps[f.documentation].append(f.name)
        if f.type == "unknown":
            out.append("family %s has no TYPE" % f.name)
    out += ["families %s share the help %r" % (", ".join(n), h)
            for h, n in helps.items() if len(n) > 1]
    # The parser names a counter family without its _total; the samples
    # keep it.
    for f in fams:
        if f.type == "counter" and any(not s.name.endswith("_total")
                                       for s in f.samples):
            out.append("counter %s: a sample not named *_total" % f.name)
        if f.type == "histogram":
            out += histogram_problems(f)
    return out


def histogram_problems(f):
    out = []
    series = collections.defaultdict(dict)
    for s in f.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        if s.name.endswith("_bucket"):
            series[key].setdefault("b", []).append(
                (float(s.labels["le"]), s.value))
        elif s.name.endswith("_count"):
            series[key]["count"] = s.value
    for key, d in series.items():
        b = d.get("b", [])
        if not b or b[-1][0] != float("inf"):
            out.append("histogram %s %s: no +Inf bucket" % (f.name, key))
            continue
        if any(x[1] > y[1] for x, y in zip(b, b[1:])):
            out.append("histogram %s %s: buckets not cumulative" %
                       (f.name, key))
        if b[-1][1] != d.get("count"):
            out.append("histogram %s %s: +Inf %s != count %s" %
                       (f.name, key, b[-1][1], d.get("count")))
    return out


def main():
    text = open(sys.argv[1]).read()
    try:
        fams = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser's own message says what
        print("not Prometheus text: %s" % e)
        return 1
    bad = problems(text, fams)
    if bad:
        print("; ".join(bad))
        return 1
    for f in fams:
        for s in f.samples:
            lbl = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
            print("%s%s %s" % (s.name, "{%s}" % lbl if lbl else "", s.value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
