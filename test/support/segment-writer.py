"""Plays Chroma persisting an HNSW segment file: rewrites it in place (no truncation, no rename)
in bursts, as hnswlib does with data_level0.bin. Burst v writes the version number v into every
4 KiB block, block by block, so a copy that overlaps a burst holds blocks of two versions.
Between bursts it sleeps GAP seconds. It prints "burst <v>" after each burst; once the file STOP
exists it stops bursting, prints "stopped <v>" and exits.

usage: segment-writer.py FILE BLOCKS GAP STOP
"""
import os
import struct
import sys
import time

path, blocks, gap, stop = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
fd = os.open(path, os.O_WRONLY)
version = 0
while not os.path.exists(stop):
    version += 1
    block = struct.pack("<Q", version) * 512
    for i in range(blocks):
        os.pwrite(fd, block, i * 4096)
    print(f"burst {version}", flush=True)
    time.sleep(gap)
os.close(fd)
print(f"stopped {version}", flush=True)
