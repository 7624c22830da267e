"""Who may supervise what: the one place the rest of the code asks.

Roles are Django groups with permissions (``contactcenter.roles``). A **supervisor** is an active
staff user with ``conversations.view_floor``; each supervisor action has its own permission
(below). Supervisors supervise the services of their teams (and the services on their own agent
profile); users with ``conversations.supervise_all_services`` (Administrators, superusers)
supervise every service.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from .models import AgentProfile, Conversation, Service

VIEW_FLOOR = "conversations.view_floor"
MONITOR = "conversations.monitor_conversation"
MANAGE_CONVERSATIONS = "conversations.manage_conversation"
ASSIGN = "conversations.assign_interaction"
FORCE_AGENT_STATE = "conversations.force_agent_state"
VIEW_REPORTS = "conversations.view_reports"
ALL_SERVICES = "conversations.supervise_all_services"

User = AbstractBaseUser | AnonymousUser


def _staff(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_staff)


def is_supervisor(user: User | None) -> bool:
    """A supervisor (or administrator): sees the floor and the conversations of their services."""
    return _staff(user) and user.has_perm(VIEW_FLOOR)


def may(user: User | None, permission: str) -> bool:
    """``user`` is a supervisor holding ``permission`` (one of the constants above)."""
    return is_supervisor(user) and user.has_perm(permission)


def supervises_all_services(user: User | None) -> bool:
    return is_supervisor(user) and user.has_perm(ALL_SERVICES)


def supervised_services(user: User | None) -> QuerySet[Service] | None:
    """The services ``user`` supervises; ``None`` means every service (administrators)."""
    if not is_supervisor(user):
        return Service.objects.none()
    if user.has_perm(ALL_SERVICES):
        return None
    return Service.objects.filter(Q(agents__user=user) | Q(teams__members__user=user)).distinct()


def scope_filter(user: User | None, field: str = "service") -> Q:
    """A filter keeping rows whose ``field`` (a service foreign key path) ``user`` supervises.

    For administrators it is an empty ``Q()`` (no restriction): AND it with other conditions,
    never OR it (``Q(x) | Q()`` is ``Q(x)``)."""
    services = supervised_services(user)
    if services is None:
        return Q()
    return Q(**{f"{field}__in": services.values("pk")})


def in_scope(queryset: QuerySet, user: User | None, field: str = "service") -> QuerySet:
    return queryset.filter(scope_filter(user, field))


def can_supervise_service(user: User | None, service_id: int | None) -> bool:
    if not is_supervisor(user) or service_id is None:
        return False
    services = supervised_services(user)
    return services is None or services.filter(pk=service_id).exists()


def can_supervise_conversation(
    user: User | None, conversation: Conversation, permission: str = VIEW_FLOOR
) -> bool:
    """``user`` holds ``permission`` and supervises the conversation's service."""
    return may(user, permission) and can_supervise_service(user, conversation.service_id)


def supervised_agents(user: User | None) -> QuerySet[AgentProfile]:
    """Profiles of the agents working (directly or through a team) a service ``user`` supervises."""
    if not is_supervisor(user):
        return AgentProfile.objects.none()
    services = supervised_services(user)
    if services is None:
        return AgentProfile.objects.all()
    ids = services.values("pk")
    return AgentProfile.objects.filter(
        pk__in=AgentProfile.objects.filter(Q(services__in=ids) | Q(teams__services__in=ids)).values(
            "pk"
        )
    )


def can_supervise_agent(
    user: User | None, agent: AbstractBaseUser, permission: str = FORCE_AGENT_STATE
) -> bool:
    return may(user, permission) and supervised_agents(user).filter(user_id=agent.pk).exists()
