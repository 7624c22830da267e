"""The API channel: a messenger we do not ship connects without code.

An external system (a bridge to a messenger, a bot platform, a customer portal) posts its
customers' messages to ``POST /api/v1/channels/api/<entry point slug>/messages/`` with an API
token; they are recognized by the identities sent with them and go into the entry point's service
like any inbound message. Agents reply in the desktop; each reply is an outbox row delivered by
:class:`~channels_app.api_channel.sender.ApiChannelSender` to the system's reply URL, signed."""
