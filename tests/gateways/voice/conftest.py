"""Fixtures for voice tests (helpers live in :mod:`tests.gateways.voice.rig`)."""

from tests.gateways.voice.rig import peers, rig_factory  # noqa: F401
