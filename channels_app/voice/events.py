"""The events of voice calls."""

#: A call's state changed (ringing, connected, on hold, ended): to the conversation's agents and
#: to the customer's widget.
VOICE_CALL = "voice.call"
#: WebRTC signaling (offer, answer, ICE candidate, renegotiate) to the other party only: the
#: customer's ``chat.<session>`` or the agent's ``softphone.<user>`` (never read by integrations).
VOICE_SIGNAL = "voice.signal"
#: A phone call rings on an agent's phone (CTI): their desktop opens the caller's conversation.
VOICE_SCREEN_POP = "voice.screen_pop"

ALL = (VOICE_CALL, VOICE_SIGNAL, VOICE_SCREEN_POP)

#: What integrations may subscribe to (signaling is not for them).
CATALOGUE = {
    VOICE_CALL: "A call's state changed (ringing, connected, on hold, ended).",
    VOICE_SCREEN_POP: "A phone call rings on an agent's phone: their desktop opens the caller's "
    "conversation.",
}
