"""A pool of boards of one kind, measured as one device: a profile whose `[ssh] hosts` lists
several boards opens a BoardPool (through pipeline.devices.open_device).

    queue.py   share_work: workers pulling chunks from one queue; a dropped worker's chunk
               goes back for the others (pure threading, no device knowledge)
    pool.py    BoardPool: one Device per board, the level check against a shared reference,
               the cache, and the Device interface (measure, check, close, profile)
"""
from pipeline.pool.pool import BoardPool, member_profiles
from pipeline.pool.queue import NoWorkersLeft, share_work

__all__ = ["BoardPool", "NoWorkersLeft", "member_profiles", "share_work"]
