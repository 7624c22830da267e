"""Voice: calls inside conversations (web calls between the customer's widget and the agent's
desktop in WebRTC; telephone calls on the same model later)."""
