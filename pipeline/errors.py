"""Errors a user can fix. The CLI prints them as one line and exits with code 2."""


class UserError(Exception):
    """Bad input: the message says what is wrong and how to fix it."""


class DeviceError(UserError):
    """The target device failed (unreachable, runtime missing, run crashed).

    In a search this must surface, never turn into a made-up latency.
    """
