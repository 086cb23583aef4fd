"""Prints a server's resident memory as "TOTAL GUEST" in KiB, from /proc/PID/smaps: TOTAL
is all of it (VmRSS), GUEST the part that is guests' linear memory.

A linear memory is one run of adjacent read-write mappings (its shadow stack, its data image,
its heap) at the start of the gigabytes its slot reserves; the rest of the slot is mapped
inaccessible. Everything else resident (the host's heap, fiber stacks, tables, code) is the
host's.
Usage: python3 bench/resident.py PID
"""

import re
import sys

MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$")
# A linear memory's slot reserves 4 GiB or more; the heap's and stacks' reservations are
# far smaller.
RESERVED_REST = 2 << 30


def mappings(pid):
    """[start, end, perms, name, rss_kib] of each mapping of process PID."""
    found = []
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            m = MAPPING.match(line)
            if m:
                found.append([int(m[1], 16), int(m[2], 16), m[3], m[4].strip(), 0])
            elif line.startswith("Rss:"):
                found[-1][4] = int(line.split()[1])
    return found


def guest_memory_kib(maps):
    """Resident KiB of every accessible linear memory: a run of adjacent read-write mappings
    that the unused rest of its slot, inaccessible and at least RESERVED_REST long, follows."""
    total, run = 0, 0
    for before, mapping in zip([None] + maps, maps):
        if before is not None and before[1] != mapping[0]:
            run = 0
        if mapping[2].startswith("rw"):
            run += mapping[4]
        else:
            if mapping[2].startswith("---") and mapping[1] - mapping[0] >= RESERVED_REST:
                total += run
            run = 0
    return total


def main():
    pid = sys.argv[1]
    with open(f"/proc/{pid}/status") as status:
        total = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    print(total, guest_memory_kib(mappings(pid)))


if __name__ == "__main__":
    main()
