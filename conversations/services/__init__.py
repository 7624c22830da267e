"""Writers for conversations, interactions, messages, routing and agent state: the only code
that changes them. Split by area; everything public is importable from here.

- ``inbound``: every customer message, call or email that arrives
- ``outbound``: the outbox (agents' replies), delivery, status callbacks, the sweeper
- ``queue``: service queues and routing; ``offers``: offers and their answers
- ``agent_state``: Ready / Not Ready / Busy / After Call Work / Logged out, presence
- ``handover``: transfers and conferences; ``closing``: ending, wrap-up, close-out
- ``cases``: case states (Pending with a follow-up time, Resolved, closing resolved cases)
- ``timeline``: system lines and notes; ``contact_moves``: conversations following contacts
- ``lifecycle``: telling the channels what happened (the lifecycle port)
- ``supervision``: supervisors' actions (force state, log out, assign, transfer, close, monitor,
  whisper, barge in), each audited

Every function runs in one transaction, locks what it changes, appends events through
``contactcenter.realtime.publish`` and starts jobs only after commit (``triggers``).
"""

from .agent_state import (
    agent_disconnected,
    agent_logged_in,
    agent_logging_out,
    agent_seen,
    agent_state_force,
    agent_state_set,
    agent_work_state_sync,
    disconnected_agent_ids,
)
from .cases import (
    case_close_resolved,
    case_follow_up,
    case_follow_ups_due,
    case_pend,
    case_resolve,
    resolved_cases_due,
)
from .closing import (
    conversation_end,
    conversation_wrap_up,
    expired_wrap_up_ids,
    interaction_end,
    wrap_up_expire,
)
from .contact_moves import conversation_move
from .custom_fields import (
    conversation_custom_fields_set,
    conversation_fields_fill,
    ensure_required_fields,
    required_fields_missing,
    service_field_definitions,
)
from .handover import (
    conference_invite,
    conversation_leave,
    transfer_to_agent,
    transfer_to_service,
)
from .inbound import InboundRecord, InboundResult, continuation_window, inbound_receive
from .legs import conversation_start, interaction_open
from .lifecycle import lifecycle_notify
from .offers import (
    expired_offer_ids,
    interaction_take,
    offer_accept,
    offer_expire,
    offer_reject,
)
from .outbound import (
    message_deliver,
    message_retry,
    message_send,
    message_send_automatic,
    message_status_update,
    outbound_reconcile,
    outbound_stuck_ids,
)
from .queue import (
    interaction_enqueue,
    interaction_pull,
    preferred_agent_for,
    route_service,
    services_with_waiting,
)
from .supervision import (
    conversation_barge,
    conversation_monitor,
    conversation_whisper,
    interaction_assign,
    supervisor_agent_log_out,
    supervisor_agent_state_force,
    supervisor_conversation_close,
    supervisor_transfer,
)
from .timeline import note_add, system_line_add

__all__ = [
    "InboundRecord",
    "InboundResult",
    "agent_disconnected",
    "agent_logged_in",
    "agent_logging_out",
    "agent_seen",
    "agent_state_force",
    "agent_state_set",
    "agent_work_state_sync",
    "case_close_resolved",
    "case_follow_up",
    "case_follow_ups_due",
    "case_pend",
    "case_resolve",
    "conference_invite",
    "continuation_window",
    "conversation_barge",
    "conversation_custom_fields_set",
    "conversation_end",
    "conversation_fields_fill",
    "conversation_leave",
    "conversation_monitor",
    "conversation_move",
    "conversation_start",
    "conversation_whisper",
    "conversation_wrap_up",
    "disconnected_agent_ids",
    "ensure_required_fields",
    "expired_offer_ids",
    "expired_wrap_up_ids",
    "inbound_receive",
    "interaction_assign",
    "interaction_end",
    "interaction_enqueue",
    "interaction_open",
    "interaction_pull",
    "interaction_take",
    "lifecycle_notify",
    "message_deliver",
    "message_retry",
    "message_send",
    "message_send_automatic",
    "message_status_update",
    "note_add",
    "offer_accept",
    "offer_expire",
    "offer_reject",
    "outbound_reconcile",
    "outbound_stuck_ids",
    "preferred_agent_for",
    "required_fields_missing",
    "resolved_cases_due",
    "route_service",
    "service_field_definitions",
    "services_with_waiting",
    "supervisor_agent_log_out",
    "supervisor_agent_state_force",
    "supervisor_conversation_close",
    "supervisor_transfer",
    "system_line_add",
    "transfer_to_agent",
    "transfer_to_service",
    "wrap_up_expire",
]
