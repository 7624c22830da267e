"""The web chat channel: the customer's chat page and embeddable widget, its websocket consumers,
the outbound sender for agents' replies, and the close-out tasks (inactivity)."""
