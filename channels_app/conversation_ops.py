"""The texts the channel side writes into conversations: system lines in the agent's timeline
("The customer texted STOP") and its own delivery errors. Each is a code plus parameters
(``conversations.system_lines``): stored as such and shown in each agent's language.
"""

from django.utils.translation import gettext_noop

from conversations.system_lines import system_text


class AgentLine:
    """System lines and delivery errors the channel side writes into conversations."""

    SMS_OPTED_OUT = system_text(
        "sms_opted_out",
        gettext_noop(
            "The customer texted %(word)s: they opted out of SMS. Nothing more can be sent to "
            "them by SMS until they text START."
        ),
    )
    SMS_OPTED_IN = system_text(
        "sms_opted_in", gettext_noop("The customer texted %(word)s: they opted back in to SMS.")
    )
    SMS_HELP = system_text(
        "sms_help", gettext_noop("The customer texted %(word)s (asking for help).")
    )
    CHAT_PRECHAT = system_text("chat_prechat", gettext_noop("Pre-chat form: %(details)s."))
    CHAT_PAGE_TITLED = system_text(
        "chat_page_titled", gettext_noop("Customer is on the page “%(title)s” (%(url)s).")
    )
    CHAT_PAGE = system_text("chat_page", gettext_noop("Customer is on the page %(url)s."))
    CHAT_ENDED_INACTIVE = system_text(
        "chat_ended_inactive",
        gettext_noop("The chat ended: the customer was inactive for %(minutes)s min."),
    )
    CHAT_ENDED_BY_CUSTOMER = system_text(
        "chat_ended_by_customer", gettext_noop("The customer ended the chat.")
    )
    CHAT_LEFT_WAITING = system_text(
        "chat_left_waiting",
        gettext_noop(
            "The customer left the chat while waiting in the queue (their browser went away)."
        ),
    )
    CHAT_TRANSCRIPT_REQUESTED = system_text(
        "chat_transcript_requested",
        gettext_noop("The customer asked for the transcript by email (%(email)s)."),
    )
    CHAT_NOT_DELIVERED = system_text(
        "chat_ended",
        gettext_noop("The customer has left the chat; the message was not delivered."),
    )
    EMAIL_BOUNCED = system_text(
        "email_bounced", gettext_noop("The email to %(address)s bounced: %(reason)s")
    )
    VOICE_CALLING = system_text(
        "voice_calling", gettext_noop("%(name)s is calling the customer in their browser.")
    )
    VOICE_REQUESTED = system_text(
        "voice_requested", gettext_noop("The customer is calling from the chat widget.")
    )
    VOICE_PHONE_INCOMING = system_text(
        "voice_phone_incoming", gettext_noop("The customer is calling from %(number)s.")
    )
    VOICE_PHONE_OUTGOING = system_text(
        "voice_phone_outgoing", gettext_noop("%(name)s is calling the customer at %(number)s.")
    )
    VOICE_PHONE_RINGING = system_text(
        "voice_phone_ringing", gettext_noop("The call is ringing on %(name)s's phone.")
    )
    VOICE_PHONE_NOT_ANSWERED = system_text(
        "voice_phone_not_answered",
        gettext_noop("%(name)s's phone did not answer: the call waits in the queue again."),
    )
    VOICE_COMMAND_FAILED = system_text(
        "voice_command_failed",
        gettext_noop("The phone system did not carry out the request: %(reason)s"),
    )
    VOICE_ABANDONED = system_text(
        "voice_abandoned", gettext_noop("The customer hung up before an agent answered.")
    )
    VOICE_MISSED = system_text("voice_missed", gettext_noop("Nobody answered the customer's call."))
    VOICE_HANDED_OVER = system_text(
        "voice_handed_over",
        gettext_noop("%(previous)s handed the call to %(name)s after talking %(duration)s."),
    )
    VOICE_SENT_TO_QUEUE = system_text(
        "voice_sent_to_queue",
        gettext_noop(
            "%(previous)s sent the call to the %(service)s queue after talking %(duration)s."
        ),
    )
    VOICE_CONSULTING = system_text(
        "voice_consulting",
        gettext_noop("%(name)s is consulting %(target)s; the customer is on hold."),
    )
    VOICE_CONSULT_CANCELLED = system_text(
        "voice_consult_cancelled", gettext_noop("%(name)s cancelled the consultation.")
    )
    VOICE_CONFERENCE = system_text(
        "voice_conference",
        gettext_noop("%(name)s merged %(target)s into the call: a conference of three."),
    )
    VOICE_CONSULT_LEFT = system_text(
        "voice_consult_left",
        gettext_noop("%(target)s left the call after talking %(duration)s."),
    )
    VOICE_TAKEN = system_text("voice_taken", gettext_noop("%(name)s answered the call."))
    VOICE_ANSWERED = system_text("voice_answered", gettext_noop("The customer answered the call."))
    VOICE_RECORDED = system_text("voice_recorded", gettext_noop("The call is being recorded."))
    VOICE_HELD = system_text("voice_held", gettext_noop("%(name)s put the customer on hold."))
    VOICE_RESUMED = system_text("voice_resumed", gettext_noop("%(name)s resumed the call."))
    VOICE_DTMF = system_text("voice_dtmf", gettext_noop("%(name)s pressed the keys %(digits)s."))
    VOICE_DECLINED = system_text("voice_declined", gettext_noop("The customer declined the call."))
    VOICE_NO_ANSWER = system_text(
        "voice_no_answer", gettext_noop("The customer did not answer the call.")
    )
    VOICE_ENDED_BY_CUSTOMER = system_text(
        "voice_ended_customer",
        gettext_noop("The customer hung up. Talk time %(duration)s, on hold %(hold)s."),
    )
    VOICE_ENDED_BY_AGENT = system_text(
        "voice_ended_agent",
        gettext_noop("%(name)s hung up. Talk time %(duration)s, on hold %(hold)s."),
    )
    VOICE_ENDED = system_text(
        "voice_ended",
        gettext_noop("The call ended. Talk time %(duration)s, on hold %(hold)s."),
    )
    VOICE_CUSTOMER_GONE = system_text(
        "voice_customer_gone",
        gettext_noop(
            "The call ended: the customer's browser stopped answering. Talk time %(duration)s, "
            "on hold %(hold)s."
        ),
    )
    VOICE_AGENT_GONE = system_text(
        "voice_agent_gone",
        gettext_noop(
            "The call ended: %(name)s's desktop stopped answering. Talk time %(duration)s, on "
            "hold %(hold)s."
        ),
    )
