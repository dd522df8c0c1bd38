#!/usr/bin/env python3
"""Writes a large, consistent profile for measuring `rram-prof` on big files.

    python3 scripts/big_profile.py EVENTS OUT.json

Events come in nested triples (a solve, an iteration inside it, a crossbar MVM inside that)
with a few metrics and allocation figures each, like the demo's; the operations' aggregates
match the events. About 127 bytes per event: 4,100,000 events make a ~500 MiB file.
"""
import json
import sys

n = int(sys.argv[1])
out = sys.argv[2]
ops = [("hp_inv", "computation"), ("hp_inv.iteration", "algorithm_step"), ("crossbar.mvm", "hardware_access")]
agg = [dict(count=0, total_ns=0, busy_ns=0, self_ns=0, min_ns=None, max_ns=0, sum_sq_ns=0, energy=0.0, alloc=[0, 0, 0]) for _ in ops]
t = 1000
with open(out, "w") as f:
    f.write('{"format_version":1,"started_at_unix_ns":1700000000000000000,"duration_ns":%d,' % (n * 1000 + 10_000))
    f.write('"system":{"platform":"linux","os_version":"x","kernel_version":"x","arch":"x86_64","cpu_model":"x","cpu_count":2,"physical_cores":1,"memory_total_mb":1,"hostname":"h","profiler_version":"0.1.0"},')
    f.write('"alloc_tracking":true,"raw_capacity":%d,"dropped_events":0,"threads":[{"id":1,"name":"main"}],"sessions":[],' % n)
    rows = []
    f_rows = []
    parent = None
    for i in range(n):
        k = i % 3
        eid = (1 << 40) + i + 1
        par = None if k == 0 else eid - 1
        wall = 3000 - k * 1000 + (i % 7) * 10
        self_ns = wall // 2
        energy = 1.5 + (i % 11) * 0.25
        a = agg[k]
        a["count"] += 1; a["total_ns"] += wall; a["busy_ns"] += wall; a["self_ns"] += self_ns
        a["min_ns"] = wall if a["min_ns"] is None else min(a["min_ns"], wall)
        a["max_ns"] = max(a["max_ns"], wall); a["sum_sq_ns"] += wall * wall; a["energy"] += energy
        a["alloc"][0] += 64; a["alloc"][1] += 64; a["alloc"][2] += 1
        f_rows.append('[%d,%s,%d,"%s",1,%d,%d,%d,%d,{"energy_pj":%r,"n":64.0},[64,64,1],null,false]'
                      % (eid, "null" if par is None else par, k, ops[k][1], t, t + wall, wall, self_ns, energy))
        t += 1000
    operations = []
    for (name, kind), a in zip(ops, agg):
        operations.append(dict(name=name, kind=kind, count=a["count"], total_ns=a["total_ns"], busy_ns=a["busy_ns"],
                               self_ns=a["self_ns"], min_ns=a["min_ns"] or 0, max_ns=a["max_ns"], sum_sq_ns=a["sum_sq_ns"],
                               histogram=[[a["min_ns"] or 0, a["count"]]] if a["count"] else [],
                               metrics={"energy_pj": dict(sum=a["energy"], count=a["count"], min=1.5, max=4.0)},
                               alloc=dict(allocated_bytes=a["alloc"][0], freed_bytes=a["alloc"][1], allocations=a["alloc"][2]),
                               alloc_count=a["count"], errors=0, panics=0))
    f.write('"operations":%s,"samples":[],' % json.dumps(operations, separators=(",", ":")))
    f.write('"events":{"columns":["id","parent","name","kind","thread_id","start_ns","end_ns","busy_ns","self_ns","metrics","alloc","error","panicked"],')
    f.write('"names":%s,"rows":[' % json.dumps([o[0] for o in ops]))
    f.write(",".join(f_rows))
    f.write("]}}")
