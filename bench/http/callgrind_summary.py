"""Summarises a callgrind profile of N requests: Ir per request, heap allocations per request
(calls to malloc/calloc/realloc/operator new) and the top functions by inclusive cost."""
import re
import subprocess
import sys

path, n = sys.argv[1], int(sys.argv[2])
names, total, allocs = {}, 0, 0
alloc_re = re.compile(r"^(malloc|calloc|realloc|operator new(\[\])?\(unsigned long\))$")
cfn = None
with open(path, errors="replace") as f:
    for line in f:
        if line.startswith("summary:") or line.startswith("totals:"):
            total = int(line.split()[1])
        m = re.match(r"^c?fn=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if m:
            if m.group(2):
                names[m.group(1)] = m.group(2)
            if line.startswith("cfn="):
                cfn = names.get(m.group(1), "")
            continue
        if line.startswith("calls=") and cfn is not None:
            if alloc_re.match(cfn):
                allocs += int(line.split("=")[1].split()[0])
            cfn = None
print("Ir per request: %.0f" % (total / n))
print("heap allocations per request: %.1f" % (allocs / n))
ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=99", path],
                     capture_output=True, text=True).stdout
print("top functions, inclusive Ir per request:")
shown = 0
for line in ann.splitlines():
    m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(?:\S+:)?(.*)$", line)
    if not m or "PROGRAM TOTALS" in line:
        continue
    ir = int(m.group(1).replace(",", ""))
    name = m.group(2)
    if ir / n < 200:
        continue
    print("%10.0f  %s" % (ir / n, name[:150]))
    shown += 1
    if shown >= 60:
        break
