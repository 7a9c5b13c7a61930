"""Plays Chroma persisting an HNSW segment file: rewrites it in place (no truncation, no rename)
in bursts, as hnswlib does with data_level0.bin. Burst v writes the version number v into every
4 KiB block, block by block, so a copy that overlaps a burst holds blocks of two versions.
Between bursts it sleeps GAP seconds. It prints "burst <v>" after each burst; once the file STOP
exists it stops bursting, prints "stopped <v>" and exits.

Inside a burst, 50 ms or more from the start of one write to the start of the next (the writer
starved of CPU, throttled in a write, or frozen) is printed as "stall <from> <to>", in seconds
since the epoch: from outside, where the file's mtime is all there is to see, such a wait looks
like the end of a burst. A write sets the mtime as it starts, so the wait is counted from there.

usage: segment-writer.py FILE BLOCKS GAP STOP
"""
import os
import struct
import sys
import time

STALL = 0.05

path, blocks, gap, stop = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
fd = os.open(path, os.O_WRONLY)
version = 0
while not os.path.exists(stop):
    version += 1
    block = struct.pack("<Q", version) * 512
    for i in range(blocks):
        started = time.time()
        if i > 0 and started - previous >= STALL:
            print(f"stall {previous:.6f} {started:.6f}", flush=True)
        previous = started
        os.pwrite(fd, block, i * 4096)
    print(f"burst {version}", flush=True)
    time.sleep(gap)
os.close(fd)
print(f"stopped {version}", flush=True)
