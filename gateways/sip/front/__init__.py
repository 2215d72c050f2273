"""The built-in SIP front: a stateless dispatcher in front of the media worker pool.

* :mod:`.message` -- sans-I/O SIP parser/serializer (raises only ``ParseError``);
* :mod:`.framing` -- sans-I/O Content-Length framing for SIP over TCP;
* :mod:`.affinity` -- Call-ID -> worker table with expiry (one transition table);
* :mod:`.dispatcher` -- the proxy core, ``Dispatcher.handle(data, source, now)``;
* :mod:`.server` -- :class:`SipFront`, the asyncio UDP/TCP layer around it;
* :mod:`.pool_chooser` -- :class:`PoolChooser`, the chooser backed by the worker pool;
* :mod:`.kamailio` -- worker list and command line for the shipped Kamailio config.

At scale, Kamailio plays the same role: see ``config/kamailio/`` and docs/sip-front.md.
"""

from .dispatcher import Chooser, Dispatcher, Send
from .message import ParseError, SipMessage, parse_message
from .pool_chooser import PoolChooser
from .server import SipFront

__all__ = ["Chooser", "Dispatcher", "ParseError", "PoolChooser", "Send", "SipFront",
           "SipMessage", "parse_message"]
