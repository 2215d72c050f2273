"""Web chat: the visitor WebSocket server, durable conversations, the ACD bridge."""

from .conversation import ChatError, Conversation, Message
from .gateway import ChatGateway

__all__ = ["ChatError", "ChatGateway", "Conversation", "Message"]
