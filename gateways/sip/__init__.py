"""Voice over SIP: media workers (pjsua2) and the pool that supervises them.

* :mod:`.protocol` -- sans-I/O codec of the control stream (control process <-> worker);
* :mod:`.worker` -- the media worker process (``python -m gateways.sip.worker``);
* :mod:`.pool` -- :class:`~gateways.sip.pool.WorkerPool`, the supervisor in the control
  process: start, health-check, restart, drain, reserve slots, route requests;
* sans-I/O helpers used by the worker: :mod:`.legstate`, :mod:`.mixer`, :mod:`.dtmf`,
  :mod:`.sipmsg`; and by the pool: :mod:`.capacity`.

Only the worker process imports pjsua2 (through :mod:`.media`); importing this package or
the pool does not.
"""
