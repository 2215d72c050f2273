"""Tests of the built-in SIP front (gateways.sip.front) and the shipped Kamailio config."""
